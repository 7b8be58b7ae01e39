/**
 * Certificates for the core tests, generated at test start with the lab
 * factory (never fetched, never committed). `pki()` builds the set once per
 * test process and returns the same promise afterwards.
 */
import type { X509Certificate } from 'node:crypto';
import {
  chainOf, createIntermediateCa, createRootCa, createSelfSigned, daysFromNow, issueLeaf, type IssuedCert,
} from '../../src/lab/certs.ts';
import type { PresentedChain } from '../../src/core/tls-verdict.ts';
import type { UsableTlsa } from '../../src/core/effective-policy.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';

export interface Pki {
  root: IssuedCert;
  inter: IssuedCert;
  /** SAN mx.example.com, issued by inter. */
  leaf: IssuedCert;
  /** SAN *.example.com. */
  wildcard: IssuedCert;
  /** SAN m*.example.com (partial wildcard). */
  partialWildcard: IssuedCert;
  /** SAN other.example.org, CN mx.example.com (CN must be ignored). */
  wrongName: IssuedCert;
  /** No SAN, CN mx.example.com. */
  cnOnly: IssuedCert;
  selfSigned: IssuedCert;
  expiredSelfSigned: IssuedCert;
  /** Leaf expired yesterday, issued by inter. */
  expiredLeaf: IssuedCert;
  /** Intermediate expired yesterday (issued by root) and a valid leaf under it. */
  expiredInter: IssuedCert;
  leafUnderExpiredInter: IssuedCert;
  /** Root expired yesterday, valid intermediate and leaf under it. */
  expiredRoot: IssuedCert;
  interUnderExpiredRoot: IssuedCert;
  leafUnderExpiredRoot: IssuedCert;
  /** Unrelated CA. */
  otherRoot: IssuedCert;
  otherInter: IssuedCert;
  /** Issued by otherInter, SAN mx.example.com. */
  otherLeaf: IssuedCert;
}

let cached: Promise<Pki> | undefined;

async function build(): Promise<Pki> {
  const root = await createRootCa('Test Root');
  const inter = await createIntermediateCa(root, 'Test Intermediate');
  const expired = { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) };
  const expiredInter = await createIntermediateCa(root, 'Expired Intermediate', expired);
  const expiredRoot = await createRootCa('Expired Root', expired);
  const interUnderExpiredRoot = await createIntermediateCa(expiredRoot, 'Intermediate Under Expired Root');
  const otherRoot = await createRootCa('Other Root');
  const otherInter = await createIntermediateCa(otherRoot, 'Other Intermediate');
  const mx = { dnsNames: ['mx.example.com'] };
  return {
    root,
    inter,
    leaf: await issueLeaf(inter, mx),
    wildcard: await issueLeaf(inter, { dnsNames: ['*.example.com'] }),
    partialWildcard: await issueLeaf(inter, { dnsNames: ['m*.example.com'] }),
    wrongName: await issueLeaf(inter, { dnsNames: ['other.example.org'], commonName: 'mx.example.com' }),
    cnOnly: await issueLeaf(inter, { dnsNames: [], commonName: 'mx.example.com' }),
    selfSigned: await createSelfSigned(mx),
    expiredSelfSigned: await createSelfSigned({ ...mx, ...expired }),
    expiredLeaf: await issueLeaf(inter, { ...mx, ...expired }),
    expiredInter,
    leafUnderExpiredInter: await issueLeaf(expiredInter, mx),
    expiredRoot,
    interUnderExpiredRoot,
    leafUnderExpiredRoot: await issueLeaf(interUnderExpiredRoot, mx),
    otherRoot,
    otherInter,
    otherLeaf: await issueLeaf(otherInter, mx),
  };
}

export function pki(): Promise<Pki> {
  cached ??= build();
  return cached;
}

/** The presented chain of DER certificates, in the order given. */
export function presented(...certs: IssuedCert[]): PresentedChain {
  return { certificates: certs.map((c) => new Uint8Array(c.der)) };
}

/** The chain a server would send for `leaf` (leaf, intermediates, and the root when asked). */
export function sent(leaf: IssuedCert, includeRoot = false): PresentedChain {
  return presented(...chainOf(leaf, includeRoot));
}

/** A usable TLSA record for `cert`. */
export function tlsaFor(cert: IssuedCert, usage: 2 | 3, selector: 0 | 1, matchingType: 0 | 1 | 2): UsableTlsa {
  return { usage, selector, matchingType, data: tlsaDataFor(cert.der, selector, matchingType) };
}

/** Same shape with wrong data of the right length. */
export function wrongTlsa(usage: 2 | 3, selector: 0 | 1, matchingType: 1 | 2): UsableTlsa {
  return { usage, selector, matchingType, data: new Uint8Array(matchingType === 1 ? 32 : 64).fill(0xab) };
}

export function x509s(...certs: IssuedCert[]): X509Certificate[] {
  return certs.map((c) => c.x509);
}
