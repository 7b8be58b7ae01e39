/**
 * core/service-dane: RFC 6698/7671 rules for non-SMTP services, next to the
 * SMTP profile of core/tlsa (C21 is the one difference), as truth tables.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsaRecord } from '../../src/core/dns-result.ts';
import { classifyServiceTlsa, usableServiceTlsa, verifyService, type ServiceTlsa } from '../../src/core/service-dane.ts';
import { tlsaDataFor, unusableReason, usableTlsa } from '../../src/core/tlsa.ts';
import { createIntermediateCa, createRootCa, issueLeaf, type IssuedCert } from '../../src/lab/certs.ts';

const rr = (usage: number, selector: number, matchingType: number, data: Uint8Array): TlsaRecord =>
  ({ type: 'TLSA', name: '_443._tcp.www.example', ttl: 300, usage, selector, matchingType, data });
const digest = new Uint8Array(32).fill(7);

test('C21 / RFC 7671: usages 0 and 1 are unusable for SMTP, usable for services; 4 is unusable for both', () => {
  const rows: Array<[number, boolean, boolean]> = [[0, false, true], [1, false, true], [2, true, true], [3, true, true], [4, false, false]];
  for (const [usage, smtp, service] of rows) {
    const r = rr(usage, 1, 1, digest);
    assert.equal(usableTlsa([r]).length === 1, smtp, `smtp usage ${usage}`);
    assert.equal(usableServiceTlsa([r]).length === 1, service, `service usage ${usage}`);
    assert.equal(unusableReason(r, 'service') === null, service);
  }
  assert.match(unusableReason(rr(1, 1, 1, digest)) ?? '', /not usable for SMTP/);
  assert.match(unusableReason(rr(1, 1, 1, new Uint8Array(5)), 'service') ?? '', /digest length 5/);
});

test('C26 for services: the strongest digest per usage+selector is kept', () => {
  const u = usableServiceTlsa([rr(1, 1, 1, digest), rr(1, 1, 2, new Uint8Array(64)), rr(0, 0, 1, digest)]);
  assert.deepEqual(u.map((r) => `${r.usage}${r.selector}${r.matchingType}`), ['112', '001']);
});

test('C1/C4/C2: classifyServiceTlsa keeps failure, denial and insecure as the SMTP classification does', () => {
  const q = { qname: '_443._tcp.www.example', canonicalName: '_443._tcp.www.example', cnames: [] };
  assert.equal(classifyServiceTlsa({ kind: 'failure', reason: 'servfail', qname: q.qname, detail: 'x' }, 'www.example').kind, 'tempfail');
  assert.equal(classifyServiceTlsa({ kind: 'insecure', records: [rr(3, 1, 1, digest)], ...q }, 'www.example').kind, 'not-applicable');
  assert.equal(classifyServiceTlsa({ kind: 'nodata', secure: true, ...q }, 'www.example').kind, 'not-applicable');
  assert.equal(classifyServiceTlsa({ kind: 'secure', records: [rr(1, 1, 1, digest)], ...q }, 'www.example').kind, 'records');
  assert.equal(classifyServiceTlsa({ kind: 'secure', records: [rr(9, 1, 1, digest)], ...q }, 'www.example').kind, 'unusable');
});

let root: IssuedCert; let ca: IssuedCert; let leaf: IssuedCert; let otherRoot: IssuedCert;
before(async () => {
  root = await createRootCa('Svc Root');
  ca = await createIntermediateCa(root, 'Svc CA');
  leaf = await issueLeaf(ca, { dnsNames: ['www.example'] });
  otherRoot = await createRootCa('Other Root');
});

test('RFC 6698 §2.1.1: verifyService truth table (PKIX usages need PKIX validation and the name)', () => {
  const chain = [leaf.der, ca.der];
  const rec = (usage: 0 | 1 | 2 | 3, c: IssuedCert, selector: 0 | 1 = 1): ServiceTlsa => ({ usage, selector, matchingType: 1, data: tlsaDataFor(c.der, selector, 1) });
  const now = new Date();
  const rows: Array<{ name: string; records: ServiceTlsa[]; host: string; anchors: IssuedCert[]; ok: boolean; why?: RegExp; depth?: number }> = [
    { name: 'DANE-EE, no PKIX needed, names ignored', records: [rec(3, leaf)], host: 'other.example', anchors: [], ok: true, depth: 0 },
    { name: 'DANE-TA of the CA with the right name', records: [rec(2, ca)], host: 'www.example', anchors: [], ok: true, depth: 1 },
    { name: 'PKIX-EE with the root in the store', records: [rec(1, leaf)], host: 'www.example', anchors: [root], ok: true, depth: 0 },
    { name: 'PKIX-EE without a trusted root', records: [rec(1, leaf)], host: 'www.example', anchors: [otherRoot], ok: false, why: /PKIX/ },
    { name: 'PKIX-EE, PKIX-valid, wrong name', records: [rec(1, leaf)], host: 'mail.example', anchors: [root], ok: false, why: /name mismatch/ },
    { name: 'PKIX-TA of the store root (not presented)', records: [rec(0, root, 0)], host: 'www.example', anchors: [root], ok: true, depth: 2 },
    { name: 'PKIX-TA of the intermediate', records: [rec(0, ca)], host: 'www.example', anchors: [root], ok: true, depth: 1 },
    { name: 'PKIX-TA of a root that is not on the path', records: [rec(0, otherRoot, 0)], host: 'www.example', anchors: [root, otherRoot], ok: false, why: /no PKIX-TA\/PKIX-EE record matched/ },
  ];
  for (const row of rows) {
    const v = verifyService(row.records, chain, row.host, row.anchors.map((a) => a.x509), now);
    assert.equal(v.authenticated, row.ok, `${row.name}: ${v.reason ?? ''}`);
    if (row.ok) { assert.equal(v.state, 'Verified', row.name); assert.equal(v.matched?.depth, row.depth, row.name); }
    else assert.match(v.reason ?? '', row.why ?? /./, row.name);
  }
});

test('verifyService: no certificate → Anonymous, unparseable leaf → Untrusted, never throws', () => {
  assert.equal(verifyService([], [], 'x', [], new Date()).state, 'Anonymous');
  assert.equal(verifyService([], [new Uint8Array([1, 2, 3])], 'x', [], new Date()).state, 'Untrusted');
});
