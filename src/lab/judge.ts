/**
 * Compares what a scenario requires with what the lab observed, and says
 * PASS or FAIL with the reasons. Pure: no I/O.
 *
 * Contract:
 * - status must be equal; DSN matched by dotted prefix (`4.7` ⊑ `4.7.5`);
 *   TLS state, SNI, `policy_type` and `tls=` feature only when the
 *   scenario names them;
 * - a `sent` scenario must reach exactly its `deliveredTo` server (default
 *   `mx1`); any other must reach no server at all;
 * - an attack scenario fails when the relay never connected through the proxy;
 * - a plaintext leak is always a FAIL: the message arrived in plaintext where
 *   TLS was owed, passed an attacker proxy readable, or reached a server it
 *   was not meant for (one that failed verification or was never to be used).
 */
import type { Expectation, Scenario } from './scenario-types.ts';
import { scenarioDomain } from './scenario-types.ts';

export interface ObservedOutcome {
  status: string;
  dsn: string;
  tlsState?: string;
  /** `policy_type` logged for the outcome (tlsa | sts | no-policy-found). */
  policyType?: string;
  /** `tls.feature` logged (`sts`, `dane`, `dane:may` …). */
  feature?: string;
  relay?: string;
  /** Postfix-style text of the outcome event. */
  detail?: string;
}

export interface ObservedDelivery {
  label: string;
  address: string;
  secure: boolean;
  sni: string | null;
  certificate: string | null;
  /** MAIL FROM carried REQUIRETLS. */
  requireTls?: boolean;
}

export interface Observation {
  /** undefined: no outcome within the time limit. */
  outcome?: ObservedOutcome;
  deliveries: ObservedDelivery[];
  proxy?: { connections: number; sawMessageInClear: boolean; startTlsCommands: number; intercepted: number; injected: number };
  /** The relay logged a STARTTLS response injection event. */
  injectionLogged: boolean;
}

export interface ScenarioResult {
  name: string;
  rule: string;
  description: string;
  expected: string;
  observed: string;
  pass: boolean;
  problems: string[];
  plaintextLeak: boolean;
  observation: Observation;
}

export function dsnMatches(expected: string, actual: string): boolean {
  const e = expected.split('.');
  const a = actual.split('.');
  return e.length <= a.length && e.every((p, i) => p === a[i]);
}

function expectedName(label: string, domain: string): string {
  return label === '@' ? domain : `${label}.${domain}`;
}

export function describeExpected(x: Expectation): string {
  const parts: string[] = [x.status];
  if (x.dsn) parts.push(x.dsn.split('.').length < 3 ? `${x.dsn}.*` : x.dsn);
  if (x.tlsState) parts.push(x.tlsState);
  if (x.policyType) parts.push(`policy_type=${x.policyType}`);
  if (x.feature) parts.push(`tls=${x.feature}`);
  if (x.status === 'sent') parts.push(`→ ${x.deliveredTo ?? 'mx1'}${x.plaintextAllowed ? '' : ' (TLS)'}${x.requireTls ? ' REQUIRETLS' : ''}`);
  return parts.join(' ');
}

export function describeObserved(o: Observation, leak: boolean): string {
  if (!o.outcome) return 'no outcome (timeout)';
  const parts: string[] = [o.outcome.status, o.outcome.dsn];
  if (o.outcome.tlsState) parts.push(o.outcome.tlsState);
  if (o.outcome.policyType) parts.push(`policy_type=${o.outcome.policyType}`);
  if (o.outcome.feature) parts.push(`tls=${o.outcome.feature}`);
  for (const d of o.deliveries) parts.push(`→ ${d.label} (${d.secure ? 'TLS' : 'plaintext'}${d.sni ? `, sni=${d.sni}` : ''}${d.requireTls ? ', REQUIRETLS' : ''})`);
  if (o.proxy?.sawMessageInClear) parts.push('attacker read the message');
  if (leak) parts.push('PLAINTEXT LEAK');
  return parts.join(' ');
}

/** Leak reasons: plaintext where TLS was owed, read by the attacker, or delivered where it must not be. */
export function leakReasons(x: Expectation, o: Observation): string[] {
  const reasons: string[] = [];
  const allowed = x.status === 'sent' ? [x.deliveredTo ?? 'mx1'] : [];
  for (const d of o.deliveries) {
    if (!d.secure && !x.plaintextAllowed) reasons.push(`message reached ${d.label} in plaintext`);
    if (!allowed.includes(d.label)) reasons.push(`message reached ${d.label}, which must not receive it`);
  }
  if (o.proxy?.sawMessageInClear && !x.plaintextAllowed) reasons.push('the attacker proxy read the message');
  return reasons;
}

/** An attack scenario proves nothing unless the relay really went through the attacker. */
function attackerProblems(s: Scenario, o: Observation): string[] {
  if (!s.attacker) return [];
  if (!o.proxy || o.proxy.connections === 0) return ['the relay never connected through the attacker'];
  return [];
}

function outcomeProblems(x: Expectation, o: Observation, domain: string): string[] {
  const p: string[] = [];
  const out = o.outcome;
  if (!out) return ['no delivery outcome was logged in time'];
  if (x.injectionLogged && !o.injectionLogged) p.push('the relay did not log the STARTTLS response injection');
  if (out.status !== x.status) p.push(`status ${out.status}, expected ${x.status}`);
  if (x.dsn && !dsnMatches(x.dsn, out.dsn)) p.push(`dsn ${out.dsn}, expected ${x.dsn}`);
  if (x.tlsState && out.tlsState !== x.tlsState) p.push(`TLS state ${out.tlsState ?? 'not logged'}, expected ${x.tlsState}`);
  if (x.policyType && out.policyType !== x.policyType) p.push(`policy_type ${out.policyType ?? 'not logged'}, expected ${x.policyType}`);
  if (x.feature && out.feature !== x.feature) p.push(`tls=${out.feature ?? 'not logged'}, expected tls=${x.feature}`);
  if (x.status === 'sent') {
    const target = x.deliveredTo ?? 'mx1';
    const got = o.deliveries.find((d) => d.label === target);
    if (!got) p.push(`message did not reach ${target}`);
    if (got && x.sni && got.sni !== expectedName(x.sni, domain)) p.push(`SNI ${got.sni ?? 'none'}, expected ${expectedName(x.sni, domain)}`);
    if (got && x.requireTls && got.requireTls !== true) p.push('REQUIRETLS was not passed on to the next hop');
  }
  return p;
}

export function judge(s: Scenario, o: Observation): ScenarioResult {
  const leaks = leakReasons(s.expect, o);
  const problems = [...outcomeProblems(s.expect, o, scenarioDomain(s)), ...attackerProblems(s, o), ...leaks];
  return {
    name: s.name, rule: s.rule, description: s.description,
    expected: describeExpected(s.expect),
    observed: describeObserved(o, leaks.length > 0),
    pass: problems.length === 0,
    problems,
    plaintextLeak: leaks.length > 0,
    observation: o,
  };
}
