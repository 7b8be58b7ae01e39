/**
 * The benchmark's lab world: one sink certificate and the DNS zones that
 * make every destination domain DANE-verified through that sink.
 *
 * Contract:
 * - `createSinkIdentity(dir)` makes a self-signed P-256 certificate for
 *   `mx.bench.test` (src/lab/certs.ts), writes cert.pem / key.pem into `dir`,
 *   and returns the `3 1 1` association data: SHA-256 of the certificate's
 *   SubjectPublicKeyInfo DER (RFC 6698 §2.1; DANE-EE ignores names and
 *   validity, RFC 7672 §3.1.1, so one certificate serves every domain).
 * - `benchZones(n, ...)` returns n signed zones `d<i>.bench.test`, each with
 *   `MX 10 mx.d<i>.bench.test`, `A <sinkHost>` and
 *   `_<port>._tcp.mx.d<i>.bench.test TLSA 3 1 1 <hash>` (AD set by the lab
 *   resolver because the zones are `signed`).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSelfSigned } from '../../src/lab/certs.ts';
import type { LabZone } from '../../src/lab/lab-resolver.ts';

export interface SinkIdentity {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
  /** SHA-256 of the SPKI DER: the `3 1 1` data. */
  spkiSha256: Buffer;
}

export async function createSinkIdentity(dir: string): Promise<SinkIdentity> {
  const cert = await createSelfSigned({ dnsNames: ['mx.bench.test'] });
  const spki = new X509Certificate(cert.der).publicKey.export({ type: 'spki', format: 'der' });
  const certFile = join(dir, 'sink-cert.pem');
  const keyFile = join(dir, 'sink-key.pem');
  await writeFile(certFile, cert.certPem);
  await writeFile(keyFile, cert.keyPem, { mode: 0o600 });
  return { certFile, keyFile, certPem: cert.certPem, keyPem: cert.keyPem, spkiSha256: createHash('sha256').update(spki).digest() };
}

export const benchDomain = (i: number): string => `d${i}.bench.test`;

export function benchZones(domains: number, sinkHost: string, sinkPort: number, spkiSha256: Buffer): LabZone[] {
  return Array.from({ length: domains }, (_, i) => {
    const origin = benchDomain(i);
    const mx = `mx.${origin}`;
    return {
      origin,
      signed: true,
      records: [
        { name: origin, type: 'SOA', data: { mname: `ns.${origin}`, rname: `hostmaster.${origin}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 300 } },
        { name: origin, type: 'MX', data: { preference: 10, exchange: mx } },
        { name: mx, type: 'A', data: sinkHost },
        { name: `_${sinkPort}._tcp.${mx}`, type: 'TLSA', data: { usage: 3, selector: 1, matchingType: 1, certificate: spkiSha256 } },
      ],
    };
  });
}
