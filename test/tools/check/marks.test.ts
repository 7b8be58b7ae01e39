/**
 * TLSA facts and per-depth marks shown by `dane-relay check`, computed with
 * the core functions (tlsaDataFor, usableTlsa, unusableReason).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, createIntermediateCa, issueLeaf, type IssuedCert } from '../../../src/lab/certs.ts';
import { formatTlsa, tlsaDataFor, usableTlsa } from '../../../src/core/tlsa.ts';
import { classifyTlsaAnswer } from '../../../src/core/dane-status.ts';
import type { TlsaRecord } from '../../../src/core/dns-result.ts';
import { describeRrset, markChain, tlsaReport } from '../../../src/tools/check/marks.ts';
import { flipLastHex } from './fixture.ts';
import { createEmptySubjectCert } from '../empty-subject.ts';

const rr = (usage: number, selector: number, matchingType: number, data: Uint8Array): TlsaRecord =>
  ({ type: 'TLSA', name: '_25._tcp.mx.example.com', ttl: 300, usage, selector, matchingType, data });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

describe('check marks', () => {
  let leaf: IssuedCert; let ca: IssuedCert;
  before(async () => {
    const root = await createRootCa('Marks Root');
    ca = await createIntermediateCa(root, 'Marks CA');
    leaf = await issueLeaf(ca, { dnsNames: ['mx.example.com'] });
  });

  test('C22/C23: DANE-EE is marked at depth 0 only, DANE-TA at depth >= 1 only; a changed digit matches nothing', () => {
    const ee = rr(3, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    const eeWrong = rr(3, 1, 1, unhex(flipLastHex(hex(ee.data))));
    const ta = rr(2, 1, 1, tlsaDataFor(ca.der, 1, 1));
    const chain = markChain([leaf.der, ca.der], usableTlsa([ee, eeWrong, ta]));
    assert.deepEqual(chain.map((c) => c.marks), [
      [{ record: formatTlsa(ee), matched: true }, { record: formatTlsa(eeWrong), matched: false }],
      [{ record: formatTlsa(ta), matched: true }],
    ]);
    assert.equal(chain[0]?.subject, 'CN=mx.example.com');
    assert.equal(chain[1]?.subject, 'CN=Marks CA');
    assert.equal(chain[0]?.issuer, 'CN=Marks CA');
  });

  test('C23: a DANE-TA record of a CA the server did not send marks nothing', () => {
    const ta = rr(2, 1, 1, tlsaDataFor(ca.der, 1, 1));
    const chain = markChain([leaf.der], usableTlsa([ta]));
    assert.deepEqual(chain[0]?.marks, []);
  });

  test('an unparseable certificate is shown with null fields and matches nothing', () => {
    const ee = rr(3, 0, 1, tlsaDataFor(leaf.der, 0, 1));
    const [c] = markChain([new Uint8Array([1, 2, 3])], usableTlsa([ee]));
    assert.equal(c?.subject, null);
    assert.deepEqual(c?.marks, [{ record: formatTlsa(ee), matched: false }]);
  });

  test('C21/C26/C27: every published record is listed with why it does not count', () => {
    const sha256 = rr(3, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    const sha512 = rr(3, 1, 2, tlsaDataFor(leaf.der, 1, 2));
    const pkix = rr(1, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    const short = rr(3, 1, 1, new Uint8Array(16));
    const rows = describeRrset([sha256, sha512, pkix, short], usableTlsa([sha256, sha512, pkix, short]));
    assert.deepEqual(rows.map((r) => r.usable), [false, true, false, false]);
    assert.match(rows[0]?.note ?? '', /digest agility/);
    assert.match(rows[2]?.note ?? '', /PKIX-EE\(1\) is not usable for SMTP/);
    assert.match(rows[3]?.note ?? '', /digest length 16, expected 32/);
    assert.equal(rows[1]?.description, 'DANE-EE(3) SPKI(1) SHA2-512(2)');
  });

  test('C1/C2/C5/C10: the TLSA status of a host in words', () => {
    const ee = rr(3, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    const secure = classifyTlsaAnswer({ kind: 'secure', records: [ee], qname: ee.name, canonicalName: ee.name, cnames: [] }, 'mx.example.com');
    const r = tlsaReport(secure, 25, '');
    assert.deepEqual([r.status, r.dnssec, r.owner], ['records', 'secure', '_25._tcp.mx.example.com']);
    const fail = classifyTlsaAnswer({ kind: 'failure', reason: 'servfail', qname: ee.name, detail: '' }, 'mx.example.com');
    assert.equal(tlsaReport(fail, 25, '').status, 'tempfail');
    const insecure = classifyTlsaAnswer({ kind: 'insecure', records: [ee], qname: ee.name, canonicalName: ee.name, cnames: [] }, 'mx.example.com');
    assert.match(tlsaReport(insecure, 25, '').dnssec, /^insecure/);
    const none = classifyTlsaAnswer({ kind: 'nxdomain', secure: true, qname: ee.name, canonicalName: ee.name, cnames: [] }, 'mx.example.com');
    assert.equal(tlsaReport(none, 25, '').dnssec, 'securely absent (nxdomain)');
    assert.equal(tlsaReport(null, 25, 'C10 why').detail, 'C10 why');
  });

  test('C22: a leaf with an empty subject is marked (empty name), its DANE-EE record still matches', async () => {
    const empty = await createEmptySubjectCert('mx.example.com');
    const ee = rr(3, 1, 1, tlsaDataFor(empty.der, 1, 1));
    const [mark] = markChain([new Uint8Array(empty.der)], usableTlsa([ee]));
    assert.equal(mark?.subject, '(empty name)');
    assert.equal(mark?.issuer, '(empty name)');
    assert.deepEqual(mark?.marks.map((m) => m.matched), [true]);
  });
});
