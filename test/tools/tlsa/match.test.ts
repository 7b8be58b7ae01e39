import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, createIntermediateCa, issueLeaf, createSelfSigned, daysFromNow, type IssuedCert } from '../../../src/lab/certs.ts';
import { certInfo, parsePemChain, type CertInfo } from '../../../src/tools/tlsa/pem.ts';
import { generateTlsa } from '../../../src/tools/tlsa/generate.ts';
import { matchChain } from '../../../src/tools/tlsa/match.ts';
import { parseRecordArg } from '../../../src/tools/tlsa/run-match.ts';
import { tlsaDataFor } from '../../../src/core/tlsa.ts';

const now = new Date();
const infos = (certs: IssuedCert[]): CertInfo[] => certs.map((c) => certInfo(c.der));
const rec = (usage: number, selector: 0 | 1, matchingType: 0 | 1 | 2, cert: IssuedCert) => ({ usage, selector, matchingType, data: tlsaDataFor(cert.der, selector, matchingType) });

describe('tlsa generate/match (pure)', () => {
  let root: IssuedCert; let inter: IssuedCert; let leaf: IssuedCert; let soonInter: IssuedCert; let soonLeaf: IssuedCert;
  before(async () => {
    root = await createRootCa('T Root');
    inter = await createIntermediateCa(root, 'T Issuing CA');
    leaf = await issueLeaf(inter, { dnsNames: ['mx.example.com', 'mx2.example.com'] });
    soonInter = await createIntermediateCa(root, 'T Short CA', { notAfter: daysFromNow(10) });
    soonLeaf = await issueLeaf(soonInter, { dnsNames: ['mx.example.com'], notAfter: daysFromNow(9) });
  });

  test('C20: default generates 3 1 1 for the leaf key and 2 1 1 for the issuing CA, owner from the first DNS SAN', () => {
    const r = generateTlsa(infos([leaf, inter]), { port: 25, now });
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.owner, '_25._tcp.mx.example.com.');
    assert.deepEqual(r.records.map((x) => [x.usage, x.selector, x.matchingType, x.depth]), [[3, 1, 1, 0], [2, 1, 1, 1]]);
    assert.match(r.records[0]?.line ?? '', /^_25\._tcp\.mx\.example\.com\. IN TLSA 3 1 1 [0-9a-f]{64}$/);
    assert.equal(r.records[0]?.description, 'DANE-EE(3) SPKI(1) SHA2-256(1)');
  });

  test('explicit fields: one record, defaults 3/1/1; a chain whose second cert is unrelated gets no 2 x x', () => {
    const r = generateTlsa(infos([leaf, root]), { port: 2525, host: 'MX.Example.NET.', selector: 0, matchingType: 2, now });
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.owner, '_2525._tcp.mx.example.net.');
    assert.deepEqual(r.records.map((x) => [x.usage, x.selector, x.matchingType]), [[3, 0, 2]]);
    assert.ok(r.warnings.some((w) => /every renewal/.test(w)));
    assert.ok(r.warnings.some((w) => /did not issue the leaf/.test(w)));
  });

  test('C21/C27: PKIX usages, unknown values and usage 2 without a CA are refused', () => {
    const one = infos([leaf]);
    for (const o of [{ usage: 1 }, { usage: 0 }, { usage: 4 }, { selector: 2 }, { matchingType: 3 }, { usage: 2 }]) {
      assert.equal(generateTlsa(one, { port: 25, now, ...o }).kind, 'error', JSON.stringify(o));
    }
  });

  test('a certificate with only a wildcard name needs --host', async () => {
    const wild = await createSelfSigned({ dnsNames: ['*.example.com'] });
    assert.equal(generateTlsa(infos([wild]), { port: 25, now }).kind, 'error');
    assert.equal(generateTlsa(infos([wild]), { port: 25, now, host: 'mx.example.com' }).kind, 'ok');
  });

  test('C22/C23: generated records match back at the right depth; one changed hex digit does not', () => {
    const g = generateTlsa(infos([leaf, inter]), { port: 25, now });
    assert.equal(g.kind, 'ok');
    if (g.kind !== 'ok') return;
    const records = g.records.map((x) => ({ ...x, data: Buffer.from(x.data, 'hex') }));
    const m = matchChain({ chain: infos([leaf, inter]), records, referenceNames: ['mx.example.com'], now });
    assert.equal(m.kind, 'match');
    assert.deepEqual(m.records.map((x) => [x.status, x.depth]), [['match', 0], ['match', 1]]);
    assert.deepEqual(m.warnings, []);
    const flipped = records.map((x) => { const d = Buffer.from(x.data); d[0] = (d[0] ?? 0) ^ 0x10; return { ...x, data: d }; });
    const n = matchChain({ chain: infos([leaf, inter]), records: flipped, referenceNames: ['mx.example.com'], now });
    assert.equal(n.kind, 'no-match');
    assert.ok(n.records.every((x) => x.status === 'no-match'));
  });

  test('C24: a 2 1 1 match needs the reference name; 3 1 1 does not (C22)', () => {
    const chain = infos([leaf, inter]);
    assert.equal(matchChain({ chain, records: [rec(2, 1, 1, inter)], referenceNames: ['other.example.org'], now }).kind, 'no-match');
    assert.equal(matchChain({ chain, records: [rec(3, 1, 1, leaf)], referenceNames: ['other.example.org'], now }).kind, 'match');
  });

  test('C13/C21/C26: unusable and digest-agility-ignored records are reported as such; only PKIX records = no-usable', () => {
    const chain = infos([leaf, inter]);
    const m = matchChain({ chain, records: [rec(1, 1, 1, leaf), rec(3, 1, 1, leaf), rec(3, 1, 2, leaf)], referenceNames: ['mx.example.com'], now });
    assert.deepEqual(m.records.map((x) => x.status), ['unusable', 'ignored', 'match']);
    assert.equal(matchChain({ chain, records: [rec(1, 1, 1, leaf)], referenceNames: ['mx.example.com'], now }).kind, 'no-usable');
  });

  test('rollover: warns when only a 3 0 x or only a 2 x x for a soon-expiring CA matches; not when a 3 1 1 also matches', () => {
    const chain = infos([leaf, inter]);
    const full = matchChain({ chain, records: [rec(3, 0, 1, leaf)], referenceNames: ['mx.example.com'], now });
    assert.equal(full.kind, 'match');
    assert.match(full.warnings[0] ?? '', /only soon-to-change records match.*every renewal/);
    const soon = infos([soonLeaf, soonInter]);
    const ta = matchChain({ chain: soon, records: [rec(2, 1, 1, soonInter)], referenceNames: ['mx.example.com'], now });
    assert.equal(ta.kind, 'match');
    assert.match(ta.warnings[0] ?? '', /matches CN=T Short CA, which expires in (9|10) days/);
    const both = matchChain({ chain: soon, records: [rec(2, 1, 1, soonInter), rec(3, 1, 1, soonLeaf)], referenceNames: ['mx.example.com'], now });
    assert.deepEqual(both.warnings, []);
    assert.ok(both.records[0]?.fragile);
  });

  test('PEM parsing and --record parsing', () => {
    const p = parsePemChain(`junk\n${leaf.keyPem}${leaf.certPem}${inter.certPem}`);
    assert.ok('chain' in p && p.chain.length === 2);
    assert.ok('error' in parsePemChain('nothing here'));
    assert.ok('error' in parsePemChain('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'));
    assert.deepEqual(parseRecordArg('3 1 1 ABcd 01'), { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array([0xab, 0xcd, 0x01]) });
    assert.equal(parseRecordArg('_25._tcp.mx.example.com. IN TLSA 2 0 1 00ff')?.usage, 2);
    for (const bad of ['3 1 1', '3 1 1 abc', '3 1 x ab', 'hello']) assert.equal(parseRecordArg(bad), undefined, bad);
  });
});
