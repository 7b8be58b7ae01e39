/**
 * Lab scenarios about the DNS side of DANE (RFC 7672 §2.1, §2.2.1–§2.2.3,
 * RFC 7505; checklist C1, C3, C4, C9, C10, C11, C16, C29): bogus and lame
 * answers, unsigned MX hosts, several MX hosts, CNAMEs, implicit MX, null MX,
 * NXDOMAIN.
 */
import { flipOneHexDigit, tlsaData } from './lab-pki.ts';
import { selfSignedChain } from './scenario-context.ts';
import type { Scenario } from './scenario-types.ts';
import { singleMxZone } from './scenarios-tlsa.ts';

const ONE_STARTTLS = [{ label: 'mx1', mode: 'starttls' as const }];
const TWO_STARTTLS = [{ label: 'mx1', mode: 'starttls' as const }, { label: 'mx2', mode: 'starttls' as const }];

export const dnsScenarios: Scenario[] = [
  {
    name: 'bogus-mx', rule: 'C1 C3', servers: ONE_STARTTLS, expect: { status: 'deferred', dsn: '4.4.3' },
    description: 'MX lookup answered SERVFAIL (bogus zone): deferred 4.4.3, no fall-back to address records',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      const zones = singleMxZone(ctx, [ctx.a(ctx.domain, 'mx1')]).map((z) => ({ ...z, bogus: true }));
      return { chains: { mx1: chain }, zones };
    },
  },
  {
    name: 'bogus-tlsa', rule: 'C1 C4', servers: ONE_STARTTLS, expect: { status: 'deferred', dsn: '4.7.5' },
    description: 'TLSA lookup answered SERVFAIL (bogus): host not used, not even in plaintext, deferred 4.7.5',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      const zones = singleMxZone(ctx, []).map((z) => ({ ...z, servfail: [{ name: ctx.tlsaOwner(ctx.host('mx1')), type: 'TLSA' }] }));
      return { chains: { mx1: chain }, zones };
    },
  },
  {
    name: 'lame-tlsa', rule: 'C4', servers: ONE_STARTTLS, expect: { status: 'deferred', dsn: '4.7.5' },
    description: 'The zone holding the TLSA records is lame (its servers do not answer): deferred 4.7.5',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.host('mx1')]);
      const lame = { origin: `_tcp.${ctx.host('mx1')}`, signed: true, lame: true, records: [ctx.tlsa(ctx.host('mx1'), 3, 1, 1, chain[0]!)] };
      return { chains: { mx1: chain }, zones: [...singleMxZone(ctx, []), lame] };
    },
  },
  {
    name: 'tlsa-tempfail-next-mx', rule: 'C4', servers: TWO_STARTTLS,
    expect: { status: 'sent', dsn: '2', deliveredTo: 'mx2', tlsState: 'Verified', sni: 'mx2' },
    description: 'TLSA lookup fails for the first MX host: it is skipped, the second (usable TLSA) is Verified and gets the message',
    async build(ctx) {
      const [c1, c2] = [await selfSignedChain([ctx.host('mx1')]), await selfSignedChain([ctx.host('mx2')])];
      const mx2 = ctx.host('mx2');
      const zone = singleMxZone(ctx, [ctx.mx(20, mx2), ctx.a(mx2, 'mx2'), ctx.tlsa(mx2, 3, 1, 1, c2[0]!)])[0]!;
      return { chains: { mx1: c1, mx2: c2 }, zones: [{ ...zone, servfail: [{ name: ctx.tlsaOwner(ctx.host('mx1')), type: 'TLSA' }] }] };
    },
  },
  {
    name: 'second-mx-verifies', rule: 'C16', servers: TWO_STARTTLS,
    expect: { status: 'sent', dsn: '2', deliveredTo: 'mx2', tlsState: 'Verified', sni: 'mx2' },
    description: 'Two MX hosts; the first fails DANE verification, the second verifies: delivered to the second only',
    async build(ctx) {
      const [c1, c2] = [await selfSignedChain([ctx.host('mx1')]), await selfSignedChain([ctx.host('mx2')])];
      const [mx1, mx2] = [ctx.host('mx1'), ctx.host('mx2')];
      const wrong = flipOneHexDigit(tlsaData(c1[0]!, 1, 1));
      return {
        chains: { mx1: c1, mx2: c2 },
        zones: singleMxZone(ctx, [ctx.tlsaRaw(mx1, 3, 1, 1, wrong), ctx.mx(20, mx2), ctx.a(mx2, 'mx2'), ctx.tlsa(mx2, 3, 1, 1, c2[0]!)]),
      };
    },
  },
  {
    name: 'signed-domain-unsigned-host', rule: 'C10', servers: ONE_STARTTLS, expect: { status: 'sent', dsn: '2' },
    description: 'Signed MX RRset naming a host in an unsigned zone whose TLSA queries fail: no TLSA lookup, opportunistic TLS, sent',
    async build(ctx) {
      const hostZone = `${ctx.domain.split('.')[0]}.unsigned-hosts.lab.test`;
      const mxHost = `mx1.${hostZone}`;
      const chain = await selfSignedChain([mxHost]);
      return {
        chains: { mx1: chain },
        zones: [
          { origin: ctx.domain, signed: true, records: [ctx.mx(10, mxHost)] },
          { origin: hostZone, signed: false, records: [ctx.a(mxHost, 'mx1')], servfail: [{ name: ctx.tlsaOwner(mxHost), type: 'TLSA' }] },
        ],
      };
    },
  },
  {
    name: 'mx-host-cname', rule: 'C11 C17', servers: ONE_STARTTLS,
    expect: { status: 'sent', dsn: '2', tlsState: 'Verified', sni: 'real' },
    description: 'MX host is a secure CNAME: TLSA at the expanded name is used first (and is the SNI), the original name\'s wrong TLSA is ignored',
    async build(ctx) {
      const [mx1, real] = [ctx.host('mx1'), ctx.host('real')];
      const chain = await selfSignedChain([real]);
      const wrong = flipOneHexDigit(tlsaData(chain[0]!, 1, 1));
      return {
        chains: { mx1: chain },
        zones: [{ origin: ctx.domain, signed: true, records: [
          ctx.mx(10, mx1), { name: mx1, type: 'CNAME', data: real }, ctx.a(real, 'mx1'),
          ctx.tlsa(real, 3, 1, 1, chain[0]!), ctx.tlsaRaw(mx1, 3, 1, 1, wrong),
        ] }],
      };
    },
  },
  {
    name: 'implicit-mx', rule: 'C9', servers: ONE_STARTTLS,
    expect: { status: 'sent', dsn: '2', tlsState: 'Verified', sni: '@' },
    description: 'No MX records: the domain itself is the MX host, its TLSA records apply, Verified',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.domain]);
      return { chains: { mx1: chain }, zones: [{ origin: ctx.domain, signed: true, records: [ctx.a(ctx.domain, 'mx1'), ctx.tlsa(ctx.domain, 3, 1, 1, chain[0]!)] }] };
    },
  },
  {
    name: 'null-mx', rule: 'C29', servers: ONE_STARTTLS, expect: { status: 'bounced', dsn: '5.1.10' },
    description: 'A lone MX 0 . (null MX): bounced 5.1.10, no fall-back to the address records',
    async build(ctx) {
      const chain = await selfSignedChain([ctx.domain]);
      return { chains: { mx1: chain }, zones: [{ origin: ctx.domain, signed: true, records: [ctx.mx(0, '.'), ctx.a(ctx.domain, 'mx1')] }] };
    },
  },
  {
    name: 'nxdomain', rule: 'C1', servers: [], expect: { status: 'bounced', dsn: '5.1.2' },
    description: 'The domain does not exist (secure NXDOMAIN): bounced 5.1.2 (bad destination system address; as the delivery issue specifies; Postfix says 5.4.4)',
    build: () => Promise.resolve({ chains: {}, zones: [] }),
  },
];
