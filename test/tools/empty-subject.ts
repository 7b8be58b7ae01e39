/**
 * A certificate with an empty subject and only a subjectAltName (RFC 5280
 * §4.1.2.6 allows it; OpenSSL's DANE test corpus has such chains), generated
 * at test start for the tools that print certificate names.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface EmptySubjectCert { der: Buffer; pem: string }

export async function createEmptySubjectCert(dnsName: string): Promise<EmptySubjectCert> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: '', signingAlgorithm: EC, keys,
    notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 90 * DAY_MS),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: dnsName }])],
  });
  const der = Buffer.from(cert.rawData);
  if (new X509Certificate(der).subject !== undefined) throw new Error('fixture: the subject is not empty');
  return { der, pem: `${cert.toString('pem')}\n` };
}
