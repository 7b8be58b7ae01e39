/**
 * Lab scenarios about TLS enforcement on the wire (RFC 7672 §1.3, §2.2,
 * §2.2.1, §6; RFC 3207 §6; checklist C8, C14, C16, C19, C32): every attacker
 * mode against a host with usable TLSA, servers that cannot do TLS, hosts
 * without TLSA, insecure MX RRsets under each insecure-MX policy, and a
 * per-domain `dane-only` policy.
 */
import type { AttackMode } from './attacker-proxy.ts';
import type { InsecureMxPolicy } from '../core/tls-level.ts';
import { daneCaChain, selfSignedChain } from './scenario-context.ts';
import type { Expectation, Scenario, ScenarioBuild, ScenarioContext } from './scenario-types.ts';
import { singleMxZone } from './scenarios-tlsa.ts';
import type { MxMode } from './mx-server.ts';

/** mx1 with a self-signed certificate and a matching 3 1 1. */
async function usableTlsa(ctx: ScenarioContext, extra: Partial<ScenarioBuild> = {}): Promise<ScenarioBuild> {
  const chain = await selfSignedChain([ctx.host('mx1')]);
  return { chains: { mx1: chain }, zones: singleMxZone(ctx, [ctx.tlsa(ctx.host('mx1'), 3, 1, 1, chain[0]!)]), ...extra };
}

function attackCase(mode: AttackMode, rule: string, description: string, expect: Expectation): Scenario {
  return {
    name: `attack-${mode}`, rule, description, expect,
    servers: [{ label: 'mx1', mode: 'starttls' }],
    attacker: { mode, target: 'mx1' },
    build: (ctx) => usableTlsa(ctx),
  };
}

function serverModeCase(mode: MxMode, description: string): Scenario {
  return {
    name: `tlsa-server-${mode}`, rule: 'C14', description,
    servers: [{ label: 'mx1', mode }],
    expect: { status: 'deferred', dsn: '4.7' },
    build: (ctx) => usableTlsa(ctx),
  };
}

/** Insecure (unsigned) MX RRset naming a host in a signed zone that publishes TLSA (C8). */
function insecureMxCase(policy: InsecureMxPolicy, match: boolean, mode: MxMode, expect: Expectation, description: string): Scenario {
  return {
    name: `insecure-mx-${policy}${match ? '' : '-mismatch'}${mode === 'starttls' ? '' : '-' + mode}`,
    rule: 'C8', description, expect, insecureMxPolicy: policy,
    servers: [{ label: 'mx1', mode }],
    async build(ctx) {
      const hostZone = `${ctx.domain.split('.')[0]}.signed-hosts.lab.test`;
      const mxHost = `mx1.${hostZone}`;
      const chain = await daneCaChain(ctx.pki, [mxHost]);
      const other = await selfSignedChain([mxHost]);
      const tlsa = ctx.tlsa(mxHost, 3, 1, 1, (match ? chain : other)[0]!);
      return {
        chains: { mx1: chain },
        zones: [
          { origin: ctx.domain, signed: false, records: [ctx.mx(10, mxHost)] },
          { origin: hostZone, signed: true, records: [ctx.a(mxHost, 'mx1'), tlsa] },
        ],
      };
    },
  };
}

function noTlsaCase(mode: MxMode, expect: Expectation, description: string, policy?: string): Scenario {
  return {
    name: policy ? `${policy}-no-tlsa` : `no-tlsa-${mode}`,
    rule: policy ? 'C19' : 'C5', description, expect,
    servers: [{ label: 'mx1', mode }],
    async build(ctx) {
      const chain = await daneCaChain(ctx.pki, [ctx.host('mx1')]);
      return { chains: { mx1: chain }, zones: singleMxZone(ctx, []), tlsPolicy: policy ? { [ctx.domain]: policy } : undefined };
    },
  };
}

export const transportScenarios: Scenario[] = [
  attackCase('strip-starttls', 'C14', 'Attacker strips STARTTLS from the EHLO reply of a host with usable TLSA: no plaintext fall-back, deferred',
    { status: 'deferred', dsn: '4.7' }),
  attackCase('starttls-454', 'C14', 'Attacker answers STARTTLS with 454 for a host with usable TLSA: no plaintext fall-back, deferred',
    { status: 'deferred', dsn: '4.7' }),
  attackCase('tls-intercept', 'C16', 'Attacker terminates TLS with a PKIX-valid certificate for the name: DANE mismatch, deferred 4.7.5, message never sent',
    { status: 'deferred', dsn: '4.7.5' }),
  attackCase('inject', 'C32', 'Attacker injects "250 forged" after the STARTTLS 220: discarded, TLS end to end, Verified',
    { status: 'sent', dsn: '2', tlsState: 'Verified', sni: 'mx1', injectionLogged: true }),
  serverModeCase('handshake-fail', 'Host with usable TLSA whose TLS handshake fails: host not used, no plaintext retry, deferred'),
  serverModeCase('plaintext-only', 'Host with usable TLSA that does not support STARTTLS at all: deferred, nothing sent in plaintext'),
  noTlsaCase('starttls', { status: 'sent', dsn: '2' }, 'Secure domain, host without TLSA (secure NODATA) offering STARTTLS: opportunistic TLS, sent'),
  noTlsaCase('plaintext-only', { status: 'sent', dsn: '2', plaintextAllowed: true }, 'Secure domain, host without TLSA and without STARTTLS: plaintext is allowed, sent'),
  noTlsaCase('starttls', { status: 'deferred', dsn: '4.7' }, 'Per-domain dane-only policy and no TLSA records: never delivered, deferred', 'dane-only'),
  insecureMxCase('dane', true, 'starttls', { status: 'sent', dsn: '2', tlsState: 'Trusted' },
    'Insecure MX, secure matching TLSA, policy dane: half-dane, authenticated but logged Trusted, never Verified'),
  insecureMxCase('dane', false, 'starttls', { status: 'deferred', dsn: '4.7.5' },
    'Insecure MX, secure TLSA that does not match, policy dane: not verified, deferred 4.7.5'),
  insecureMxCase('encrypt', false, 'starttls', { status: 'sent', dsn: '2', tlsState: 'Untrusted' },
    'Insecure MX, secure TLSA that does not match, policy encrypt: TLS required, not authenticated, sent Untrusted'),
  insecureMxCase('encrypt', true, 'plaintext-only', { status: 'deferred', dsn: '4.7' },
    'Insecure MX, secure TLSA, policy encrypt, host without STARTTLS: TLS required, deferred'),
  insecureMxCase('may', true, 'plaintext-only', { status: 'sent', dsn: '2', plaintextAllowed: true },
    'Insecure MX, secure TLSA, policy may, host without STARTTLS: opportunistic, sent in plaintext'),
];
