/**
 * Lab scenarios about certificate matching (RFC 7672 §3, RFC 7671 §5, §9,
 * checklist C13, C15, C16, C20–C27): which TLSA usage/selector/matching-type
 * combinations verify, which must fail, DANE-TA chains and names, expiry.
 *
 * Every domain here has a signed MX RRset pointing at `mx1.<domain>` in the
 * same signed zone; only the TLSA records and the served chain vary.
 */
import { createRootCa, createIntermediateCa, issueLeaf, daysFromNow } from './certs.ts';
import { flipOneHexDigit, tlsaData } from './lab-pki.ts';
import type { LabRecord, LabZone } from './lab-resolver.ts';
import { daneCaChain, selfSignedChain } from './scenario-context.ts';
import type { Scenario, ScenarioContext } from './scenario-types.ts';

/** One signed zone: MX 10 mx1, A mx1, plus `records`. */
export function singleMxZone(ctx: ScenarioContext, records: LabRecord[]): LabZone[] {
  const mx1 = ctx.host('mx1');
  return [{ origin: ctx.domain, signed: true, records: [ctx.mx(10, mx1), ctx.a(mx1, 'mx1'), ...records] }];
}

const ONE_STARTTLS = [{ label: 'mx1', mode: 'starttls' as const }];
const VERIFIED = { status: 'sent' as const, dsn: '2', tlsState: 'Verified' as const, sni: 'mx1' };
const NOT_VERIFIED = { status: 'deferred' as const, dsn: '4.7.5' };

/** DANE-EE with a self-signed certificate: `3 <selector> <matching>`. */
function eeCase(name: string, selector: 0 | 1, matchingType: 0 | 1 | 2): Scenario {
  return {
    name, rule: 'C13 C20 C22', servers: ONE_STARTTLS, expect: VERIFIED,
    description: `DANE-EE 3 ${selector} ${matchingType} of a self-signed certificate: Verified`,
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 3, selector, matchingType, chain[0]!)]) };
    },
  };
}

export const tlsaScenarios: Scenario[] = [
  eeCase('ee-311', 1, 1),
  eeCase('ee-301', 0, 1),
  eeCase('ee-312', 1, 2),
  eeCase('ee-310', 1, 0),
  {
    name: 'ee-mismatch-one-digit', rule: 'C16', servers: ONE_STARTTLS, expect: NOT_VERIFIED,
    description: 'DANE-EE 3 1 1 with one hex digit changed: not verified, never delivered, deferred 4.7.5',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      const bad = flipOneHexDigit(tlsaData(chain[0]!, 1, 1));
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsaRaw(ctx.host('mx1'), 3, 1, 1, bad)]) };
    },
  },
  {
    name: 'ee-expired-wrong-name', rule: 'C22', servers: ONE_STARTTLS, expect: VERIFIED,
    description: 'DANE-EE 3 1 1 of an expired self-signed certificate with an unrelated name: no date or name check, Verified',
    async build(ctx) {
      const chain = await selfSignedChain(['unrelated.example.net'], { notBefore: daysFromNow(-60), notAfter: daysFromNow(-30) });
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 3, 1, 1, chain[0]!)]) };
    },
  },
  {
    name: 'ta-intermediate-211', rule: 'C23 C24', servers: ONE_STARTTLS, expect: VERIFIED,
    description: 'DANE-TA 2 1 1 of the issuing CA the server sends, leaf named for the MX host: Verified',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 1, 1, ctx.pki.daneIntermediate)]) };
    },
  },
  {
    name: 'ta-root-sent-201', rule: 'C23', servers: ONE_STARTTLS, expect: VERIFIED,
    description: 'DANE-TA 2 0 1 of the root, which the server sends in its chain: Verified',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')], { withRoot: true });
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 0, 1, ctx.pki.daneRoot)]) };
    },
  },
  {
    name: 'ta-root-not-sent-201', rule: 'C23', servers: ONE_STARTTLS, expect: NOT_VERIFIED,
    description: 'DANE-TA 2 0 1 of a root the server does not send (digest only): no anchor to match, deferred 4.7.5',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 0, 1, ctx.pki.daneRoot)]) };
    },
  },
  {
    name: 'ta-full-root-in-record-200', rule: 'C23', servers: ONE_STARTTLS, expect: VERIFIED,
    description: 'DANE-TA 2 0 0 carrying the whole root certificate, not sent by the server: the record supplies the anchor, Verified',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 0, 0, ctx.pki.daneRoot)]) };
    },
  },
  {
    name: 'ta-wrong-name', rule: 'C24', servers: ONE_STARTTLS, expect: NOT_VERIFIED,
    description: 'DANE-TA 2 1 1 matches the issuer but the leaf names another host: name check fails, deferred 4.7.5',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, ['other-host.example.net']);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 1, 1, ctx.pki.daneIntermediate)]) };
    },
  },
  {
    name: 'ta-wildcard-name', rule: 'C24', servers: ONE_STARTTLS, expect: VERIFIED,
    description: 'DANE-TA 2 1 1, leaf named *.<domain> (whole left-most label): matches mx1.<domain>, Verified',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [`*.${ctx.domain}`]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 1, 1, ctx.pki.daneIntermediate)]) };
    },
  },
  {
    name: 'ta-nexthop-name', rule: 'C24', servers: ONE_STARTTLS, expect: VERIFIED,
    description: 'DANE-TA 2 1 1, leaf named for the next-hop domain with a secure MX RRset: Verified',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.domain]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 1, 1, ctx.pki.daneIntermediate)]) };
    },
  },
  {
    name: 'ta-expired-leaf', rule: 'C23', servers: ONE_STARTTLS, expect: NOT_VERIFIED,
    description: 'DANE-TA 2 1 1 with an expired leaf: validity dates are checked under DANE-TA, deferred 4.7.5',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')], { notBefore: daysFromNow(-60), notAfter: daysFromNow(-1) });
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 1, 1, ctx.pki.daneIntermediate)]) };
    },
  },
  {
    name: 'ta-unrelated-anchor', rule: 'C25', servers: ONE_STARTTLS, expect: NOT_VERIFIED,
    description: 'DANE-TA 2 0 1 of a root appended to a chain it did not sign: matches nothing, deferred 4.7.5',
    async build(ctx) {
      const otherRoot = await createRootCa('Lab Unrelated Root');
      const otherInter = await createIntermediateCa(otherRoot, 'Lab Unrelated Issuing CA');
      const leaf = await issueLeaf(otherInter, { dnsNames: [ctx.host('mx1')] });
      return { chains: { mx1: [leaf, otherInter, ctx.pki.daneRoot] }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 2, 0, 1, ctx.pki.daneRoot)]) };
    },
  },
  {
    name: 'pkix-only-records', rule: 'C15 C21', servers: ONE_STARTTLS,
    expect: { status: 'sent', dsn: '2', tlsState: 'Untrusted' },
    description: 'Only PKIX-EE 1 1 1 (unusable for SMTP): TLS mandatory but unauthenticated, sent over TLS, never Verified',
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 1, 1, 1, chain[0]!)]) };
    },
  },
  {
    name: 'unusable-no-starttls', rule: 'C14 C15', servers: [{ label: 'mx1', mode: 'plaintext-only' }],
    expect: { status: 'deferred', dsn: '4.7' },
    description: 'All TLSA records unusable (usage 1, bad digest length) and no STARTTLS: TLS still mandatory, deferred, nothing sent in plaintext',
    async build(ctx) {
      const mx1 = ctx.host('mx1');
      return { chains: {}, zones: singleMxZone(ctx, [ctx.tlsaRaw(mx1, 1, 1, 1, Buffer.alloc(32, 7)), ctx.tlsaRaw(mx1, 3, 1, 1, Buffer.alloc(31, 7))]) };
    },
  },
  {
    name: 'digest-agility', rule: 'C26', servers: ONE_STARTTLS, expect: NOT_VERIFIED,
    description: 'Correct 3 1 1 next to a wrong 3 1 2: only the strongest matching type counts, not verified, deferred 4.7.5',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      const mx1 = ctx.host('mx1');
      const wrong512 = flipOneHexDigit(tlsaData(chain[0]!, 1, 2));
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(mx1, 3, 1, 1, chain[0]!), ctx.tlsaRaw(mx1, 3, 1, 2, wrong512)]) };
    },
  },
];
