import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { PeerAuthentication, UsableTlsa } from '../../src/core/effective-policy.ts';
import { formatTlsa, usableTlsa } from '../../src/core/tlsa.ts';
import { verifyPeer, type VerifyContext } from '../../src/core/verify-peer.ts';
import { createIntermediateCa, createRootCa, issueLeaf, type IssuedCert } from '../../src/lab/certs.ts';
import { pki, presented, sent, tlsaFor, wrongTlsa } from './fixtures.ts';

const REFS = ['mx.example.com', 'example.com'];
const now = (): Date => new Date();
const noStore = (): VerifyContext => ({ now: now(), trustAnchors: [] });

function dane(records: UsableTlsa[], referenceNames = REFS, halfDane = false): PeerAuthentication {
  return { kind: 'dane', records, referenceNames, halfDane };
}

const SELECTORS = [0, 1] as const;
const MATCHING = [0, 1, 2] as const;

describe('DANE-EE(3) (C22)', () => {
  for (const s of SELECTORS) {
    for (const m of MATCHING) {
      test(`C22: 3 ${s} ${m} of the leaf is Verified at depth 0`, async () => {
        const { leaf } = await pki();
        const rec = tlsaFor(leaf, 3, s, m);
        const v = verifyPeer(dane([rec]), sent(leaf), noStore());
        assert.deepEqual(v, { state: 'Verified', authenticated: true, pkixTrusted: false, matched: { record: formatTlsa(rec), depth: 0 } });
      });
    }
  }

  test('C22: an expired self-signed certificate whose key matches 3 1 1 is Verified (no date, name or chain check)', async () => {
    const { expiredSelfSigned } = await pki();
    const v = verifyPeer(dane([tlsaFor(expiredSelfSigned, 3, 1, 1)], ['unrelated.example.net']), sent(expiredSelfSigned), noStore());
    assert.equal(v.state, 'Verified');
    assert.equal(v.authenticated, true);
  });

  test('C22: DANE-EE ignores names: a leaf named other.example.org matches 3 0 1', async () => {
    const { wrongName } = await pki();
    assert.equal(verifyPeer(dane([tlsaFor(wrongName, 3, 0, 1)]), sent(wrongName), noStore()).state, 'Verified');
  });

  test('C22: DANE-EE matches the leaf only, never an intermediate', async () => {
    const { leaf, inter } = await pki();
    const v = verifyPeer(dane([tlsaFor(inter, 3, 0, 1), tlsaFor(inter, 3, 1, 1)]), sent(leaf), noStore());
    assert.equal(v.authenticated, false);
    assert.equal(v.reason, 'no TLSA record matched the certificate chain');
  });

  test('C26: a wrong SHA2-512 record beside the right SHA2-256 one (same usage/selector) gives no match', async () => {
    const { leaf } = await pki();
    const records = usableTlsa([wrongTlsa(3, 1, 2), tlsaFor(leaf, 3, 1, 1)]);
    const v = verifyPeer(dane(records), sent(leaf), noStore());
    assert.equal(v.authenticated, false);
    assert.equal(v.state, 'Untrusted');
  });
});

describe('DANE-TA(2) chain matching (C23, C25)', () => {
  for (const s of SELECTORS) {
    for (const m of MATCHING) {
      test(`C23: 2 ${s} ${m} of the intermediate matches at depth 1`, async () => {
        const { leaf, inter } = await pki();
        const rec = tlsaFor(inter, 2, s, m);
        const v = verifyPeer(dane([rec]), sent(leaf), noStore());
        assert.deepEqual(v, { state: 'Verified', authenticated: true, pkixTrusted: false, matched: { record: formatTlsa(rec), depth: 1 } });
      });
      test(`C23: 2 ${s} ${m} of the root matches at depth 2 when the root is sent`, async () => {
        const { leaf, root } = await pki();
        const v = verifyPeer(dane([tlsaFor(root, 2, s, m)]), sent(leaf, true), noStore());
        assert.equal(v.state, 'Verified');
        assert.equal(v.matched?.depth, 2);
      });
    }
  }

  for (const s of SELECTORS) {
    for (const m of [1, 2] as const) {
      test(`C23: a 2 ${s} ${m} digest of a root the server did not send matches nothing`, async () => {
        const { leaf, root } = await pki();
        const v = verifyPeer(dane([tlsaFor(root, 2, s, m)]), sent(leaf), noStore());
        assert.equal(v.authenticated, false);
        assert.equal(v.reason, 'no TLSA record matched the certificate chain');
      });
    }
    test(`C23: 2 ${s} 0 carries the full ${s === 0 ? 'certificate' : 'key'}: the root need not be sent (depth 2)`, async () => {
      const { leaf, root } = await pki();
      const rec = tlsaFor(root, 2, s, 0);
      const v = verifyPeer(dane([rec]), sent(leaf), noStore());
      assert.deepEqual(v.matched, { record: formatTlsa(rec), depth: 2 });
      assert.equal(v.state, 'Verified');
    });
  }

  test('C23: 2 0 0 / 2 1 0 of an unrelated CA do not sign the top certificate: no match', async () => {
    const { leaf, otherRoot } = await pki();
    const v = verifyPeer(dane([tlsaFor(otherRoot, 2, 0, 0), tlsaFor(otherRoot, 2, 1, 0)]), sent(leaf), noStore());
    assert.equal(v.authenticated, false);
  });

  test('C25: a trust anchor appended to an unrelated chain matches nothing', async () => {
    const { leaf, inter, otherRoot } = await pki();
    const v = verifyPeer(dane([tlsaFor(otherRoot, 2, 0, 1)]), presented(leaf, inter, otherRoot), noStore());
    assert.equal(v.authenticated, false);
    assert.equal(v.state, 'Untrusted');
    assert.match(v.reason ?? '', /^no TLSA record matched the certificate chain \(a DANE-TA record matched a certificate that does not issue/);
  });

  test("C25: an attacker's chain with the real intermediate appended matches nothing", async () => {
    const { otherLeaf, otherInter, inter, selfSigned } = await pki();
    const records = [tlsaFor(inter, 2, 0, 1), tlsaFor(inter, 2, 1, 1)];
    assert.equal(verifyPeer(dane(records), presented(otherLeaf, otherInter, inter), noStore()).authenticated, false);
    assert.equal(verifyPeer(dane(records), presented(selfSigned, inter), noStore()).authenticated, false);
  });

  test('C25: a same-named forged intermediate does not chain to the real one', async () => {
    const { root, inter } = await pki();
    const forgedInter = await createIntermediateCa(root, 'Test Intermediate'); // same subject, other key
    const forgedLeaf = await issueLeaf(forgedInter, { dnsNames: ['mx.example.com'] });
    const v = verifyPeer(dane([tlsaFor(inter, 2, 0, 1), tlsaFor(root, 2, 0, 1)]), presented(forgedLeaf, inter, root), noStore());
    assert.equal(v.authenticated, false);
  });

  test('C23: a certificate that is not a CA cannot issue the leaf', async () => {
    const { leaf, inter } = await pki();
    const underLeaf = await issueLeaf(leaf, { dnsNames: ['mx.example.com'] });
    const v = verifyPeer(dane([tlsaFor(inter, 2, 0, 1), tlsaFor(leaf, 2, 0, 1)]), presented(underLeaf, leaf, inter), noStore());
    assert.equal(v.authenticated, false);
  });

  test('C23: a DANE-TA record never matches the leaf itself', async () => {
    const { selfSigned, leaf } = await pki();
    assert.equal(verifyPeer(dane([tlsaFor(selfSigned, 2, 0, 1)]), sent(selfSigned), noStore()).authenticated, false);
    assert.equal(verifyPeer(dane([tlsaFor(leaf, 2, 1, 1)]), sent(leaf), noStore()).authenticated, false);
  });

  test('C23: the presented list is unordered apart from the leaf', async () => {
    const { leaf, inter, root } = await pki();
    const v = verifyPeer(dane([tlsaFor(root, 2, 0, 1)]), presented(leaf, root, inter), noStore());
    assert.equal(v.state, 'Verified');
    assert.equal(v.matched?.depth, 2);
  });

  test('C23: an expired intermediate below the DANE-TA trust anchor fails', async () => {
    const { leafUnderExpiredInter, expiredInter, root } = await pki();
    const v = verifyPeer(dane([tlsaFor(root, 2, 0, 1)]), presented(leafUnderExpiredInter, expiredInter, root), noStore());
    assert.equal(v.authenticated, false);
    assert.match(v.reason ?? '', /^DANE-TA match but chain not valid: certificate at depth 1 \(CN=Expired Intermediate\) has expired/);
  });

  test('C23: an expired leaf under DANE-TA fails', async () => {
    const { expiredLeaf, inter } = await pki();
    const v = verifyPeer(dane([tlsaFor(inter, 2, 0, 1)]), presented(expiredLeaf, inter), noStore());
    assert.equal(v.authenticated, false);
    assert.match(v.reason ?? '', /certificate at depth 0 .* has expired/);
  });

  test("C23 (RFC 7671 §5.2.3, RFC 5280 §6.1.1): the trust anchor's own validity dates are not checked", async () => {
    const p = await pki();
    const asTa = verifyPeer(dane([tlsaFor(p.expiredInter, 2, 0, 1)]), presented(p.leafUnderExpiredInter, p.expiredInter), noStore());
    assert.equal(asTa.state, 'Verified');
    assert.equal(asTa.matched?.depth, 1);
    const root = verifyPeer(dane([tlsaFor(p.expiredRoot, 2, 1, 1)]), sent(p.leafUnderExpiredRoot, true), noStore());
    assert.equal(root.state, 'Verified');
    assert.equal(root.matched?.depth, 2);
  });

  test('C23: path length is bounded: 6 intermediates are found, 8 are not', async () => {
    const root = await createRootCa('Deep Root');
    const build = async (n: number): Promise<IssuedCert> => {
      let ca = root;
      for (let i = 0; i < n; i++) ca = await createIntermediateCa(ca, `Deep ${n}.${i}`);
      return issueLeaf(ca, { dnsNames: ['mx.example.com'] });
    };
    const shallow = await build(6);
    const deep = await build(8);
    const rec = tlsaFor(root, 2, 0, 0);
    assert.equal(verifyPeer(dane([rec]), sent(shallow), noStore()).matched?.depth, 7);
    assert.equal(verifyPeer(dane([rec]), sent(deep), noStore()).authenticated, false);
  });
});

describe('DANE-TA(2) name checks (C24)', () => {
  const cases: Array<[string, keyof Awaited<ReturnType<typeof pki>>, string[], boolean]> = [
    ['SAN equal to the TLSA base domain', 'leaf', ['mx.example.com'], true],
    ['SAN equal to the MX host name (second reference name)', 'leaf', ['mx-base.example.net', 'mx.example.com'], true],
    ['reference names compared case-insensitively, trailing dot ignored', 'leaf', ['MX.EXAMPLE.COM.'], true],
    ['SAN not among the reference names', 'leaf', ['example.com', 'mail.example.com'], false],
    ['wildcard *.example.com matches mx.example.com', 'wildcard', ['mx.example.com'], true],
    ['wildcard *.example.com does not match example.com', 'wildcard', ['example.com'], false],
    ['wildcard *.example.com does not match a.b.example.com', 'wildcard', ['a.b.example.com'], false],
    ['partial wildcard m*.example.com matches nothing', 'partialWildcard', ['mx.example.com'], false],
    ['CN used when there are no DNS SANs', 'cnOnly', ['mx.example.com'], true],
    ['CN ignored when DNS SANs exist', 'wrongName', ['mx.example.com'], false],
  ];
  for (const [name, which, refs, ok] of cases) {
    test(`C24: ${name} -> ${ok ? 'Verified' : 'name mismatch'}`, async () => {
      const p = await pki();
      const v = verifyPeer(dane([tlsaFor(p.inter, 2, 0, 1)], refs), sent(p[which]), noStore());
      assert.equal(v.authenticated, ok);
      assert.equal(v.state, ok ? 'Verified' : 'Untrusted');
      if (!ok) assert.match(v.reason ?? '', /^DANE-TA match but name mismatch: certificate names \[/);
    });
  }

  test('C24: the mismatch reason lists the certificate names and the reference names', async () => {
    const p = await pki();
    const v = verifyPeer(dane([tlsaFor(p.inter, 2, 1, 1)], ['mx.example.com', 'example.com']), sent(p.wrongName), noStore());
    assert.equal(v.reason, 'DANE-TA match but name mismatch: certificate names [other.example.org] do not match [mx.example.com, example.com]');
  });
});

describe('verdict states (C8, C16)', () => {
  test('C8: half-dane: a DANE-EE match through an insecure MX is authenticated but Trusted, never Verified', async () => {
    const { selfSigned } = await pki();
    const v = verifyPeer(dane([tlsaFor(selfSigned, 3, 1, 1)], REFS, true), sent(selfSigned), noStore());
    assert.equal(v.state, 'Trusted');
    assert.equal(v.authenticated, true);
    assert.equal(v.matched?.depth, 0);
  });

  test('C8: half-dane with a DANE-TA match is Trusted too', async () => {
    const { leaf, inter } = await pki();
    const v = verifyPeer(dane([tlsaFor(inter, 2, 0, 1)], ['mx.example.com'], true), sent(leaf), noStore());
    assert.deepEqual([v.state, v.authenticated], ['Trusted', true]);
  });

  test('C16: no TLSA match with a chain the local CA store trusts is Trusted, not authenticated, with a reason', async () => {
    const { leaf, root } = await pki();
    const v = verifyPeer(dane([wrongTlsa(3, 1, 1)]), sent(leaf), { now: now(), trustAnchors: [root.x509] });
    assert.deepEqual(v, { state: 'Trusted', authenticated: false, pkixTrusted: true, reason: 'no TLSA record matched the certificate chain' });
  });

  test('C16: no TLSA match with an untrusted chain is Untrusted', async () => {
    const { selfSigned } = await pki();
    const v = verifyPeer(dane([wrongTlsa(3, 1, 1), wrongTlsa(2, 0, 1)]), sent(selfSigned), noStore());
    assert.deepEqual([v.state, v.authenticated], ['Untrusted', false]);
  });

  test('Anonymous: no certificate; authenticated only when no authentication is required', () => {
    assert.deepEqual(verifyPeer({ kind: 'none' }, { certificates: [] }, noStore()), { state: 'Anonymous', authenticated: true, pkixTrusted: false });
    const v = verifyPeer(dane([wrongTlsa(3, 1, 1)]), { certificates: [] }, noStore());
    assert.deepEqual(v, { state: 'Anonymous', authenticated: false, pkixTrusted: false, reason: 'no certificate presented' });
  });

  test('no authentication required: Trusted when the chain reaches the local CA store, else Untrusted', async () => {
    const p = await pki();
    const store = { now: now(), trustAnchors: [p.root.x509] };
    assert.equal(verifyPeer({ kind: 'none' }, sent(p.leaf), store).state, 'Trusted');
    assert.equal(verifyPeer({ kind: 'none' }, sent(p.leaf, true), store).state, 'Trusted');
    assert.equal(verifyPeer({ kind: 'none' }, sent(p.selfSigned), store).state, 'Untrusted');
    assert.equal(verifyPeer({ kind: 'none' }, sent(p.otherLeaf), store).state, 'Untrusted');
    assert.equal(verifyPeer({ kind: 'none' }, sent(p.leafUnderExpiredInter), store).state, 'Untrusted');
    assert.equal(verifyPeer({ kind: 'none' }, sent(p.leaf), store).authenticated, true);
  });

  test('an unparseable leaf fails authentication; an unparseable extra certificate is ignored', async () => {
    const { leaf, inter } = await pki();
    const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
    const bad = verifyPeer(dane([tlsaFor(leaf, 3, 1, 1)]), { certificates: [junk] }, noStore());
    assert.deepEqual([bad.state, bad.authenticated], ['Untrusted', false]);
    const ok = verifyPeer(dane([tlsaFor(inter, 2, 0, 1)]), { certificates: [new Uint8Array(leaf.der), junk, new Uint8Array(inter.der)] }, noStore());
    assert.equal(ok.state, 'Verified');
  });
});

describe('fingerprint and PKIX levels', () => {
  test('fingerprint: the certificate digest or the public-key digest may match (sha256, sha1, sha512)', async () => {
    const { selfSigned } = await pki();
    const spki = selfSigned.x509.publicKey.export({ type: 'spki', format: 'der' });
    const digests: Array<['sha256' | 'sha1' | 'sha512', Buffer, string]> = [
      ['sha256', selfSigned.der, 'cert'], ['sha256', spki, 'pkey'], ['sha1', selfSigned.der, 'cert'], ['sha512', spki, 'pkey'],
    ];
    for (const [algorithm, der, what] of digests) {
      const digest = createHash(algorithm).update(der).digest('hex');
      const v = verifyPeer({ kind: 'fingerprint', fingerprints: [{ algorithm: 'sha256', digest: '00'.repeat(32) }, { algorithm, digest }] }, sent(selfSigned), noStore());
      assert.deepEqual(v, { state: 'Verified', authenticated: true, pkixTrusted: false, matched: { record: `${what} ${algorithm}:${digest}`, depth: 0 } });
    }
  });

  test('fingerprint: no match is not authenticated and the reason shows the peer digests', async () => {
    const { leaf, root } = await pki();
    const v = verifyPeer({ kind: 'fingerprint', fingerprints: [{ algorithm: 'sha256', digest: 'ab'.repeat(32) }] }, sent(leaf), { now: now(), trustAnchors: [root.x509] });
    assert.deepEqual([v.state, v.authenticated], ['Trusted', false]);
    assert.match(v.reason ?? '', /no configured fingerprint matched the certificate \(cert sha256:[0-9a-f]{64}, pkey sha256:[0-9a-f]{64}\)/);
  });

  test('fingerprint: an intermediate digest does not authenticate the leaf', async () => {
    const { leaf, inter } = await pki();
    const digest = createHash('sha256').update(inter.der).digest('hex');
    assert.equal(verifyPeer({ kind: 'fingerprint', fingerprints: [{ algorithm: 'sha256', digest }] }, sent(leaf), noStore()).authenticated, false);
  });

  const pkixCases: Array<[string, string, boolean, string[], 'Verified' | 'Trusted' | 'Untrusted', RegExp | null]> = [
    ['chain to the local CA and name match', 'leaf', false, ['mx.example.com'], 'Verified', null],
    ['root sent as well', 'leaf', true, ['mx.example.com'], 'Verified', null],
    ['dot-nexthop matches a subdomain', 'leaf', false, ['example.com', '.example.com'], 'Verified', null],
    ['name mismatch', 'leaf', false, ['example.com'], 'Trusted', /^name mismatch: certificate names \[mx\.example\.com\] do not match \[example\.com\]$/],
    ['unknown CA', 'otherLeaf', false, ['mx.example.com'], 'Untrusted', /^certificate not trusted: certificate chain does not lead to a trusted CA$/],
    ['self-signed', 'selfSigned', false, ['mx.example.com'], 'Untrusted', /^certificate not trusted/],
    ['expired intermediate', 'leafUnderExpiredInter', false, ['mx.example.com'], 'Untrusted', /has expired/],
    ['expired leaf', 'expiredLeaf', false, ['mx.example.com'], 'Untrusted', /depth 0 .* has expired/],
  ];
  for (const [name, which, withRoot, refs, state, reason] of pkixCases) {
    test(`verify/secure (PKIX): ${name} -> ${state}`, async () => {
      const p = await pki();
      const cert = p[which as keyof typeof p];
      const v = verifyPeer({ kind: 'pkix', referenceNames: refs }, sent(cert, withRoot), { now: now(), trustAnchors: [p.root.x509] });
      assert.equal(v.state, state);
      assert.equal(v.authenticated, state === 'Verified');
      if (reason) assert.match(v.reason ?? '', reason);
      if (state === 'Verified') assert.equal(v.matched?.depth, 2);
    });
  }

  test('verify/secure (PKIX): an empty local CA store trusts nothing', async () => {
    const { leaf } = await pki();
    const v = verifyPeer({ kind: 'pkix', referenceNames: ['mx.example.com'] }, sent(leaf, true), noStore());
    assert.equal(v.state, 'Untrusted');
    assert.match(v.reason ?? '', /no trusted CA certificates configured/);
  });
});
