/**
 * Lab scenarios for REQUIRETLS (RFC 8689 §4.2.1, §5): the message is submitted
 * over STARTTLS with MAIL FROM … REQUIRETLS; the relay may hand it only to a
 * host authenticated by DANE (Verified, not half-DANE) whose EHLO inside TLS
 * offers REQUIRETLS, and must pass REQUIRETLS on; a host that fails this is
 * skipped (soft), and the message bounces 5.7.30 once every host was tried.
 * An attacker can strip REQUIRETLS only inside a TLS session it terminates:
 * DANE refuses that session first (C16), the message is deferred, never sent.
 */
import { daneCaChain, selfSignedChain } from './scenario-context.ts';
import type { Expectation, Scenario, ScenarioBuild, ScenarioContext, ServerDecl } from './scenario-types.ts';
import { singleMxZone } from './scenarios-tlsa.ts';

const REQUIRETLS = { requireTls: true };

async function daneMx1(ctx: ScenarioContext): Promise<ScenarioBuild> {
  const chain = await selfSignedChain([ctx.host('mx1')]);
  return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 3, 1, 1, chain[0]!)]) };
}

function rtCase(name: string, description: string, servers: ServerDecl[], expect: Expectation, build: (ctx: ScenarioContext) => Promise<ScenarioBuild>, extra: Partial<Scenario> = {}): Scenario {
  return { name: `requiretls-${name}`, rule: 'RFC8689', description, servers, expect, submit: REQUIRETLS, build, ...extra };
}

export const requireTlsScenarios: Scenario[] = [
  rtCase('dane-offered', 'REQUIRETLS message, DANE-verified host offering REQUIRETLS: sent Verified, REQUIRETLS passed on',
    [{ label: 'mx1', mode: 'requiretls' }], { status: 'sent', dsn: '2', tlsState: 'Verified', sni: 'mx1', requireTls: true }, daneMx1),
  rtCase('not-offered', 'REQUIRETLS message, DANE-verified host that does not offer REQUIRETLS: never sent, bounced 5.7.30',
    [{ label: 'mx1', mode: 'starttls' }], { status: 'bounced', dsn: '5.7.30' }, daneMx1),
  rtCase('next-host', 'REQUIRETLS message: mx1 lacks REQUIRETLS (skipped, soft), mx2 offers it: sent to mx2 with REQUIRETLS',
    [{ label: 'mx1', mode: 'starttls' }, { label: 'mx2', mode: 'requiretls' }], { status: 'sent', dsn: '2', deliveredTo: 'mx2', tlsState: 'Verified', requireTls: true },
    async (ctx) => {
      const [c1, c2] = [await selfSignedChain([ctx.host('mx1')]), await selfSignedChain([ctx.host('mx2')])];
      const mx2 = ctx.host('mx2');
      return { chains: { mx1: c1, mx2: c2 }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 3, 1, 1, c1[0]!), ctx.mx(20, mx2), ctx.a(mx2, 'mx2'), ctx.tlsa(mx2, 3, 1, 1, c2[0]!)]) };
    }),
  rtCase('no-tlsa', 'REQUIRETLS message, host offers REQUIRETLS but has no TLSA (not DANE-authenticated): never connected, bounced 5.7.30',
    [{ label: 'mx1', mode: 'requiretls' }], { status: 'bounced', dsn: '5.7.30' },
    async (ctx) => ({ chains: { mx1: await daneCaChain(ctx.pki, [ctx.host('mx1')]) }, zones: singleMxZone(ctx, []) })),
  rtCase('half-dane', 'REQUIRETLS message, insecure MX RRset (half-DANE, Trusted not Verified): bounced 5.7.30',
    [{ label: 'mx1', mode: 'requiretls' }], { status: 'bounced', dsn: '5.7.30' },
    async (ctx) => {
      const hostZone = `${ctx.domain.split('.')[0]}.signed-hosts.lab.test`;
      const mxHost = `mx1.${hostZone}`;
      const chain = await daneCaChain(ctx.pki, [mxHost]);
      return {
        chains: { mx1: chain },
        zones: [
          { origin: ctx.domain, signed: false, records: [ctx.mx(10, mxHost)] },
          { origin: hostZone, signed: true, records: [ctx.a(mxHost, 'mx1'), ctx.tlsa(mxHost, 3, 1, 1, chain[0]!)] },
        ],
      };
    }, { rule: 'C8 RFC8689' }),
  rtCase('attack-strip', 'REQUIRETLS message, attacker terminates TLS and strips REQUIRETLS from the EHLO: DANE mismatch, deferred 4.7.5, never sent',
    [{ label: 'mx1', mode: 'requiretls' }], { status: 'deferred', dsn: '4.7.5' }, daneMx1, { rule: 'C16 RFC8689', attacker: { mode: 'strip-requiretls', target: 'mx1' } }),
];
