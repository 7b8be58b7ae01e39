/**
 * Certificate factory for the lab and the tests: CAs, intermediates, leaves
 * (right or wrong names, expired, not yet valid), self-signed certificates.
 *
 * Contract: every certificate is generated here at run time (never fetched,
 * never committed); keys are ECDSA P-256 unless RSA is asked for; the result
 * carries DER, PEM, the private key as PKCS#8 PEM and a node
 * `X509Certificate`. Failures are bugs (exceptions).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const DAY_MS = 86_400_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

export interface IssuedCert {
  /** Subject common name. */
  name: string;
  der: Buffer;
  certPem: string;
  keyPem: string;
  x509: X509Certificate;
  /** The issuer, or undefined for a self-signed certificate. */
  issuer?: IssuedCert;
  /** Internal: the key pair, used to sign children. */
  keys: webcrypto.CryptoKeyPair;
  algorithm: typeof EC | typeof RSA;
}

export interface CertOptions {
  /** Default: one day ago. */
  notBefore?: Date;
  /** Default: 90 days from now. */
  notAfter?: Date;
  /** Default 'ec'. */
  keyType?: 'ec' | 'rsa';
  /** Reuse an existing key pair (e.g. a renewal that keeps the key: `3 1 1` keeps matching). */
  keys?: webcrypto.CryptoKeyPair;
}

export interface LeafOptions extends CertOptions {
  /** subjectAltName DNS names; empty means no SAN extension (CN only). */
  dnsNames: string[];
  /** Default: the first DNS name. */
  commonName?: string;
}

function validity(opts: CertOptions): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: opts.notAfter ?? new Date(Date.now() + 90 * DAY_MS),
  };
}

async function keyPair(opts: CertOptions): Promise<{ keys: webcrypto.CryptoKeyPair; algorithm: typeof EC | typeof RSA }> {
  const algorithm = opts.keyType === 'rsa' ? RSA : EC;
  if (opts.keys) return { keys: opts.keys, algorithm };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return { keys, algorithm };
}

function serial(): string {
  const bytes = randomBytes(12);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function escapeDnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function finish(cert: x509.X509Certificate, name: string, keys: webcrypto.CryptoKeyPair, algorithm: typeof EC | typeof RSA, issuer?: IssuedCert): Promise<IssuedCert> {
  const der = Buffer.from(cert.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { name, der, certPem: cert.toString('pem') + '\n', keyPem, x509: new X509Certificate(der), issuer, keys, algorithm };
}

/** A root CA (self-signed, basicConstraints CA:true, keyCertSign). */
export async function createRootCa(name: string, opts: CertOptions = {}): Promise<IssuedCert> {
  const { keys, algorithm } = await keyPair(opts);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDnValue(name)}`,
    ...validity(opts),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(cert, name, keys, algorithm);
}

/** A certificate for `keys` named `name`, signed by `issuer`, with `extensions` plus the authority key identifier. */
async function signedBy(issuer: IssuedCert, name: string, opts: CertOptions, keys: webcrypto.CryptoKeyPair, extensions: x509.Extension[]): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDnValue(name)}`,
    issuer: issuer.x509.subject.split('\n').join(', '),
    ...validity(opts),
    signingAlgorithm: issuer.algorithm,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey)],
  });
}

/** An intermediate CA signed by `issuer`. */
export async function createIntermediateCa(issuer: IssuedCert, name: string, opts: CertOptions = {}): Promise<IssuedCert> {
  const { keys, algorithm } = await keyPair(opts);
  const cert = await signedBy(issuer, name, opts, keys, [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ]);
  return finish(cert, name, keys, algorithm, issuer);
}

function leafExtensions(opts: LeafOptions, isCa: boolean): x509.Extension[] {
  const ext: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (opts.dnsNames.length > 0) {
    ext.push(new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  }
  return ext;
}

/** A server (end-entity) certificate signed by `issuer`. */
export async function issueLeaf(issuer: IssuedCert, opts: LeafOptions): Promise<IssuedCert> {
  const { keys, algorithm } = await keyPair(opts);
  const name = opts.commonName ?? opts.dnsNames[0] ?? 'lab leaf';
  const cert = await signedBy(issuer, name, opts, keys, leafExtensions(opts, false));
  return finish(cert, name, keys, algorithm, issuer);
}

/** A self-signed server certificate (not a CA), the typical DANE-EE `3 1 1` deployment. */
export async function createSelfSigned(opts: LeafOptions): Promise<IssuedCert> {
  const { keys, algorithm } = await keyPair(opts);
  const name = opts.commonName ?? opts.dnsNames[0] ?? 'lab self-signed';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDnValue(name)}`,
    ...validity(opts),
    signingAlgorithm: algorithm,
    keys,
    extensions: leafExtensions(opts, false),
  });
  return finish(cert, name, keys, algorithm);
}

/** The chain a server would send: the leaf, then each issuer up to (and, when `includeRoot`, including) the root. */
export function chainOf(leaf: IssuedCert, includeRoot = false): IssuedCert[] {
  const chain: IssuedCert[] = [leaf];
  for (let c = leaf.issuer; c; c = c.issuer) {
    if (!c.issuer && !includeRoot) break;
    chain.push(c);
  }
  return chain;
}

/** PEM bundle of certificates, in the given order. */
export function pemBundle(certs: IssuedCert[]): string {
  return certs.map((c) => c.certPem).join('');
}

/** Shift a date by whole days (negative = past); convenience for expired/not-yet-valid certificates. */
export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * DAY_MS);
}
