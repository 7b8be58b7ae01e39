import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { certMatches, describeTlsa, formatTlsa, spkiOf, tlsaDataFor, unusableReason, usableTlsa } from '../../src/core/tlsa.ts';
import { pki } from './fixtures.ts';

const USAGES = [0, 1, 2, 3, 4, 255];
const SELECTORS = [0, 1, 2, 255];
const MATCHING = [0, 1, 2, 3, 255];

describe('tlsa usability (C13, C21, C27)', () => {
  test('C13/C21/C27: every usage x selector x matching type combination, usable only for 2|3 x 0|1 x 0|1|2', async () => {
    const { root, leaf } = await pki();
    let usableCount = 0;
    for (const usage of USAGES) {
      for (const selector of SELECTORS) {
        for (const matchingType of MATCHING) {
          const known = (selector === 0 || selector === 1) && (matchingType <= 2);
          const cert = usage === 2 ? root : leaf;
          const data = known ? tlsaDataFor(cert.der, selector as 0 | 1, matchingType as 0 | 1 | 2) : new Uint8Array(32).fill(1);
          const expected = (usage === 2 || usage === 3) && known;
          const got = usableTlsa([{ usage, selector, matchingType, data }]);
          assert.equal(got.length, expected ? 1 : 0, `${usage} ${selector} ${matchingType}`);
          assert.equal(unusableReason({ usage, selector, matchingType, data }) === null, expected);
          if (expected) usableCount++;
        }
      }
    }
    assert.equal(usableCount, 2 * 2 * 3);
  });

  test('C21: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP, with the reason saying so', async () => {
    const { leaf } = await pki();
    const data = tlsaDataFor(leaf.der, 1, 1);
    assert.deepEqual(usableTlsa([{ usage: 1, selector: 1, matchingType: 1, data }, { usage: 0, selector: 1, matchingType: 1, data }]), []);
    assert.match(unusableReason({ usage: 1, selector: 1, matchingType: 1, data }) ?? '', /PKIX-EE\(1\) is not usable for SMTP/);
  });

  const lengths: Array<[string, number, number, boolean]> = [
    ['3 1 1 with 32 bytes', 1, 32, true],
    ['3 1 1 with 31 bytes', 1, 31, false],
    ['3 1 1 with 33 bytes', 1, 33, false],
    ['3 1 1 with 64 bytes', 1, 64, false],
    ['3 1 2 with 64 bytes', 2, 64, true],
    ['3 1 2 with 32 bytes', 2, 32, false],
    ['3 1 2 with 0 bytes', 2, 0, false],
    ['3 1 0 with 0 bytes', 0, 0, false],
    ['3 1 0 with 7 bytes (exact data, compared not parsed)', 0, 7, true],
  ];
  for (const [name, matchingType, length, usable] of lengths) {
    test(`C27: digest length: ${name} -> ${usable ? 'usable' : 'unusable'}`, () => {
      const got = usableTlsa([{ usage: 3, selector: 1, matchingType, data: new Uint8Array(length).fill(7) }]);
      assert.equal(got.length, usable ? 1 : 0);
    });
  }

  test('C27: DANE-TA Full(0) data must parse as a certificate (2 0 0) or a public key (2 1 0)', async () => {
    const { root } = await pki();
    const junk = new Uint8Array(100).fill(3);
    assert.equal(usableTlsa([{ usage: 2, selector: 0, matchingType: 0, data: junk }]).length, 0);
    assert.equal(usableTlsa([{ usage: 2, selector: 1, matchingType: 0, data: junk }]).length, 0);
    assert.equal(usableTlsa([{ usage: 2, selector: 0, matchingType: 0, data: tlsaDataFor(root.der, 0, 0) }]).length, 1);
    assert.equal(usableTlsa([{ usage: 2, selector: 1, matchingType: 0, data: tlsaDataFor(root.der, 1, 0) }]).length, 1);
  });

  test('C13: duplicate records are kept once', async () => {
    const { leaf } = await pki();
    const r = { usage: 3, selector: 1, matchingType: 1, data: tlsaDataFor(leaf.der, 1, 1) };
    assert.equal(usableTlsa([r, { ...r, data: new Uint8Array(r.data) }, r]).length, 1);
  });

  test('C13/C15: an RRset whose records are all unusable yields no usable records', () => {
    const rrset = [
      { usage: 1, selector: 1, matchingType: 1, data: new Uint8Array(32) },
      { usage: 3, selector: 2, matchingType: 1, data: new Uint8Array(32) },
      { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(20) },
    ];
    assert.deepEqual(usableTlsa(rrset), []);
  });
});

describe('digest agility (C26)', () => {
  const d32 = new Uint8Array(32).fill(1);
  const d64 = new Uint8Array(64).fill(2);
  const full = new Uint8Array(40).fill(3);
  const cases: Array<[string, Array<[number, number, number, Uint8Array]>, string[]]> = [
    ['SHA2-512 beside SHA2-256, same usage/selector: only SHA2-512 counts', [[3, 1, 1, d32], [3, 1, 2, d64]], ['3 1 2']],
    ['different selectors are independent', [[3, 1, 1, d32], [3, 0, 2, d64]], ['3 1 1', '3 0 2']],
    ['different usages are independent', [[3, 1, 2, d64], [2, 1, 1, d32]], ['3 1 2', '2 1 1']],
    ['Full(0) is not a digest and always counts (OpenSSL)', [[3, 1, 0, full], [3, 1, 2, d64], [3, 1, 1, d32]], ['3 1 0', '3 1 2']],
    ['agility applies after discarding malformed records: a short SHA2-512 does not hide SHA2-256', [[3, 1, 2, d32], [3, 1, 1, d32]], ['3 1 1']],
  ];
  for (const [name, rrset, expected] of cases) {
    test(`C26: ${name}`, () => {
      const got = usableTlsa(rrset.map(([usage, selector, matchingType, data]) => ({ usage, selector, matchingType, data })));
      assert.deepEqual(got.map((r) => `${r.usage} ${r.selector} ${r.matchingType}`), expected);
    });
  }
});

describe('tlsa names and data (C20)', () => {
  test('C20: RFC 7218 acronyms in descriptions', () => {
    assert.equal(describeTlsa({ usage: 3, selector: 1, matchingType: 1 }), 'DANE-EE(3) SPKI(1) SHA2-256(1)');
    assert.equal(describeTlsa({ usage: 2, selector: 0, matchingType: 2 }), 'DANE-TA(2) Cert(0) SHA2-512(2)');
    assert.equal(describeTlsa({ usage: 0, selector: 0, matchingType: 0 }), 'PKIX-TA(0) Cert(0) Full(0)');
    assert.equal(describeTlsa({ usage: 1, selector: 1, matchingType: 0 }), 'PKIX-EE(1) SPKI(1) Full(0)');
    assert.equal(describeTlsa({ usage: 4, selector: 2, matchingType: 3 }), 'unassigned(4) unassigned(2) unassigned(3)');
    assert.equal(describeTlsa({ usage: 255, selector: 255, matchingType: 255 }), 'PrivCert(255) PrivSel(255) PrivMatch(255)');
  });

  test('C20: formatTlsa prints the full lower-case hex', () => {
    assert.equal(formatTlsa({ usage: 3, selector: 1, matchingType: 1, data: new Uint8Array([0xab, 0x12, 0x00]) }), '3 1 1 ab1200');
  });

  test('tlsaDataFor: Cert(0)/SPKI(1) x Full/SHA2-256/SHA2-512 against node:crypto', async () => {
    const { leaf } = await pki();
    const spki = leaf.x509.publicKey.export({ type: 'spki', format: 'der' });
    assert.deepEqual(Buffer.from(tlsaDataFor(leaf.der, 0, 0)), leaf.der);
    assert.deepEqual(Buffer.from(tlsaDataFor(leaf.der, 1, 0)), spki);
    assert.equal(Buffer.from(tlsaDataFor(leaf.der, 0, 1)).toString('hex'), createHash('sha256').update(leaf.der).digest('hex'));
    assert.equal(Buffer.from(tlsaDataFor(leaf.der, 1, 1)).toString('hex'), createHash('sha256').update(spki).digest('hex'));
    assert.equal(Buffer.from(tlsaDataFor(leaf.der, 1, 2)).toString('hex'), createHash('sha512').update(spki).digest('hex'));
    assert.equal(tlsaDataFor(leaf.der, 0, 2).length, 64);
  });

  test('C22, C23: certMatches, the one comparison of a certificate with a record, for each selector x matching type as tlsaDataFor computes it', async () => {
    const { leaf, root } = await pki();
    const cert = new X509Certificate(leaf.der);
    for (const selector of [0, 1] as const) {
      for (const matchingType of [0, 1, 2] as const) {
        const data = tlsaDataFor(leaf.der, selector, matchingType);
        assert.equal(certMatches(cert, { usage: 3, selector, matchingType, data }), true, `${selector} ${matchingType}`);
        assert.equal(certMatches(cert, { usage: 3, selector, matchingType, data: tlsaDataFor(root.der, selector, matchingType) }), false, `root data ${selector} ${matchingType}`);
        const flipped = new Uint8Array(data);
        flipped[0] = (flipped[0] ?? 0) ^ 1;
        assert.equal(certMatches(cert, { usage: 3, selector, matchingType, data: flipped }), false, `one bit off ${selector} ${matchingType}`);
      }
    }
  });

  test('spkiOf exports a certificate\'s key once, however many records are compared (issue 15)', async () => {
    const { leaf } = await pki();
    const cert = new X509Certificate(leaf.der);
    const first = spkiOf(cert);
    assert.equal(spkiOf(cert), first, 'the same Buffer: not exported again');
    assert.deepEqual(first, cert.publicKey.export({ type: 'spki', format: 'der' }));
    assert.notEqual(spkiOf(new X509Certificate(leaf.der)), first, 'another certificate object is exported on its own');
  });
});
