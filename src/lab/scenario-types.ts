/**
 * What a lab scenario is: data describing one destination domain (its zones,
 * its MX servers and their behaviour, an optional on-path attacker, an
 * optional per-domain TLS policy) and the outcome RFC 7672 requires for one
 * message sent to it.
 *
 * Contract: `servers` and `attacker` are static so the runner can allocate
 * loopback addresses and the shared port before `build` runs; `build` then
 * creates the certificates and DNS data with those addresses and that port.
 * Each scenario owns the domain `<name>.lab.test` and the names below it.
 */
import type { IssuedCert } from './certs.ts';
import type { AttackMode } from './attacker-proxy.ts';
import type { LabPki } from './lab-pki.ts';
import type { LabRecord, LabZone } from './lab-resolver.ts';
import type { MxMode } from './mx-server.ts';
import type { InsecureMxPolicy } from '../core/tls-level.ts';
import type { ReportPolicyType } from '../core/sts-precedence.ts';
import type { StsSite } from './sts-server.ts';
import type { FollowUp } from './follow-up.ts';
import type { TlsState } from '../core/tls-verdict.ts';
import type { RecipientStatus } from '../queue/deliverer.ts';

export interface ServerDecl {
  /** Label of the server; also the left-most label of its default host name (`mx1.<domain>`). */
  label: string;
  mode: MxMode;
}

export interface AttackerDecl {
  mode: AttackMode;
  /** Label of the server the attacker sits in front of. */
  target: string;
}

export interface Expectation {
  status: RecipientStatus;
  /** Enhanced status code, matched by dotted prefix: `4.7` matches `4.7.5`. */
  dsn?: string;
  /** Server label that must receive the message; defaults to `mx1` when status is `sent`. */
  deliveredTo?: string;
  /** TLS state the relay must log for the delivery. */
  tlsState?: TlsState;
  /** SNI the receiving server must have seen: a label below the domain, `@` for the domain itself. */
  sni?: string;
  /** The message may arrive in plaintext (no TLS owed). Default false: plaintext is a leak. */
  plaintextAllowed?: boolean;
  /** The relay must log a `starttls-injection` event (C32). */
  injectionLogged?: boolean;
  /** `policy_type` the relay must log for the outcome (the governing policy source, RFC 8460 words). */
  policyType?: ReportPolicyType;
  /** Postfix `tls=` feature status the relay must log (e.g. `sts`, `dane`). */
  feature?: string;
  /** The delivered message must carry REQUIRETLS on MAIL FROM (RFC 8689 §4.2.1). */
  requireTls?: boolean;
}

export interface ScenarioContext {
  /** `<name>.lab.test` */
  domain: string;
  /** The shared port every lab MX listens on (and the relay's delivery.port). */
  port: number;
  pki: LabPki;
  /** `<label>.<domain>`; `@` is the domain itself. */
  host(label: string): string;
  /** The loopback address server `label` listens on (`attacker` for the proxy). */
  address(label: string): string;
  /** Where the relay must be sent for `label`: the attacker's address when it targets that server. */
  connectAddress(label: string): string;
  /** An A record `name` → connectAddress(label). */
  a(name: string, label: string): LabRecord;
  mx(preference: number, exchange: string): LabRecord;
  /** TLSA at `_<port>._tcp.<name>` from a certificate (usage, selector, matching type). */
  tlsa(name: string, usage: number, selector: 0 | 1, matchingType: 0 | 1 | 2, cert: IssuedCert): LabRecord;
  /** TLSA at `_<port>._tcp.<name>` with raw association data. */
  tlsaRaw(name: string, usage: number, selector: number, matchingType: number, data: Buffer): LabRecord;
  /** The owner name TLSA records for `name` use: `_<port>._tcp.<name>`. */
  tlsaOwner(name: string): string;
  /** The lab's HTTPS server (MTA-STS policies, TLSRPT collector): loopback address and port. */
  sts: { host: string; port: number };
  /** A TXT record. */
  txt(name: string, text: string): LabRecord;
}

export interface ScenarioBuild {
  zones: LabZone[];
  /** Certificate chain (leaf first) per server label, for servers that speak TLS. */
  chains: Record<string, IssuedCert[]>;
  /** Extra relay `tls.policy` entries (domain → Postfix policy string). */
  tlsPolicy?: Record<string, string>;
  /** MTA-STS policy sites on the lab HTTPS server, per policy domain (served as `mta-sts.DOMAIN`). */
  stsSites?: Record<string, StsSite>;
  /** Policies the relay has cached from an earlier contact (persisted MTA-STS cache, seeded before it starts). */
  stsCache?: Array<{ domain: string; id: string; policy: string }>;
  /** Hosts whose https POSTs the lab HTTPS server collects as TLSRPT reports. */
  collectors?: Record<string, IssuedCert[]>;
}

export interface Scenario {
  /** `s07-ta-root-not-sent`: also the left-most label of the domain. */
  name: string;
  description: string;
  /** Checklist rule(s) the scenario proves, e.g. `C16`; an RFC section (`RFC8461-4.2`) for MTA-STS/TLSRPT rules outside the DANE checklist. */
  rule: string;
  servers: ServerDecl[];
  attacker?: AttackerDecl;
  /** Relay `tls.dane_insecure_mx_policy` for this scenario (scenarios are grouped per relay). Default `dane`. */
  insecureMxPolicy?: InsecureMxPolicy;
  /** How the lab submits the message: `requireTls` = over STARTTLS with MAIL FROM … REQUIRETLS (RFC 8689). */
  submit?: { requireTls?: boolean };
  build(ctx: ScenarioContext): Promise<ScenarioBuild>;
  expect: Expectation;
  /** Runs once every scenario has its outcome; its problems are added to this scenario's row. */
  followUp?: FollowUp;
}

export const LAB_PARENT = 'lab.test';

export function scenarioDomain(s: Pick<Scenario, 'name'>): string {
  return `${s.name}.${LAB_PARENT}`;
}
