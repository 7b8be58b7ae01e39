/**
 * Runs INSIDE the BIND rollover lab's namespace: a lab MX server (STARTTLS)
 * at 127.0.0.10:2525 presenting the certificate in CERT.pem with KEY.pem;
 * prints `listening` when ready and runs until SIGTERM.
 * Usage: node --import tsx test/interop/bind-rollover-mx.ts CERT.pem KEY.pem
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startMxServer } from '../../src/lab/mx-server.ts';
import type { IssuedCert } from '../../src/lab/certs.ts';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) throw new Error('usage: bind-rollover-mx.ts CERT.pem KEY.pem');
const certPem = readFileSync(certFile, 'utf8');
const x509 = new X509Certificate(certPem);
const leaf = { name: 'mx.rollover.test', certPem, keyPem: readFileSync(keyFile, 'utf8'), der: x509.raw, x509 } as unknown as IssuedCert;
const server = await startMxServer({ host: '127.0.0.10', port: 2525, mode: 'starttls', chain: [leaf] });
process.stdout.write('listening\n');
process.once('SIGTERM', () => { void server.close().then(() => process.exit(0)); });
