/**
 * What REQUIRETLS (RFC 8689) demands of a next-hop host, and what TLS-Required:
 * No (RFC 8689 §4.2, §5) allows — the message-dependent part of the effective
 * policy (effective-policy.ts decides per host; this narrows or relaxes it per
 * message). Pure; never throws.
 *
 * REQUIRETLS (RFC 8689 §4.2.1, §4.2.2): a host may take the message only when
 * - its effective policy authenticates it by DANE (`auth.kind === 'dane'`, not
 *   half-DANE: a host name from an insecure MX RRset is not securely looked
 *   up, §4.2.1 item 1; C8) — checked before connecting (`requireTlsHost`);
 *   MTA-STS `enforce` is to be added here when that policy source lands;
 * - the TLS session is `Verified` and the EHLO inside TLS (C32) offers
 *   REQUIRETLS (§4.2.1 item 3) — checked after the handshake and before MAIL
 *   FROM (`requireTlsSession`), so a proxy that strips REQUIRETLS from the
 *   EHLO only makes the host unusable.
 * A refusal is a reason to try the next host: `permanent` for the host walk
 * (it never becomes deliverable by waiting, like Postfix: 5.7.30 once every
 * host has been tried), soft until then (core/host-walk).
 *
 * TLS-Required: No (`relaxForTlsRequiredNo`): only when the operator enabled
 * `tls.honor_tls_required_no` and the message was not sent with REQUIRETLS
 * (§4.1): TLS is attempted but not required and the peer not authenticated
 * (level `may`), as RFC 8689 §4.2 asks of the sending MTA. The caller logs it.
 */
import type { EffectivePolicy, PeerAuthentication } from './effective-policy.ts';
import type { TlsState } from './tls-verdict.ts';

export const REQUIRETLS_DSN = '5.7.30';

export type RequireTlsCheck = { kind: 'ok' } | { kind: 'refuse'; dsn: typeof REQUIRETLS_DSN; reason: string };

type Connect = Extract<EffectivePolicy, { kind: 'connect' }>;

function refuse(reason: string): RequireTlsCheck {
  return { kind: 'refuse', dsn: REQUIRETLS_DSN, reason: `REQUIRETLS: ${reason}` };
}

/** Before connecting: is this host authenticated by DANE? */
export function requireTlsHost(auth: PeerAuthentication, host: string): RequireTlsCheck {
  if (auth.kind !== 'dane') return refuse(`host ${host} is not authenticated by DANE (no usable TLSA records)`);
  if (auth.halfDane) return refuse(`host ${host} comes from an insecure MX lookup (half-DANE)`);
  return { kind: 'ok' };
}

/** After TLS and the EHLO inside it: Verified and offering REQUIRETLS? */
export function requireTlsSession(state: TlsState | null, offersRequireTls: boolean, host: string): RequireTlsCheck {
  if (state !== 'Verified') return refuse(`TLS session with ${host} is ${state ?? 'not encrypted'}, not Verified`);
  if (!offersRequireTls) return refuse(`host ${host} does not offer REQUIRETLS`);
  return { kind: 'ok' };
}

/** RFC 8689 §4.2: TLS-Required: No — TLS opportunistic, no authentication, for this message only. */
export function relaxForTlsRequiredNo(policy: Connect): Connect {
  return { ...policy, level: 'may', tlsRequired: false, tlsAttempt: true, auth: { kind: 'none' }, feature: `${policy.feature}:tls-required-no`, reason: `${policy.reason}; relaxed to may by TLS-Required: No (RFC 8689 §4.2)` };
}
