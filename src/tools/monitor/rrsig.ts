/**
 * RRSIG expiry of an RRset, read from the validating resolver's answer to a
 * query with the DO bit (RFC 4034 §3.1.5, RFC 4035 §3.2.1).
 *
 * The relay's DNS client (src/dns/client.ts) keeps only the records of the
 * asked type, so the signatures are read here: one exchange through the
 * relay's own transport (src/dns/transport.ts `exchange`: UDP then TCP on
 * truncation, id/question checks; `encodeQuery` sets DO), and the RRSIG
 * answers covering the asked type at the answer's owner are picked out.
 * src/dns is not changed.
 *
 * Contract: `rrsigExpiry` returns the earliest expiration among the covering
 * signatures, `none` when the answer carries none (an unsigned zone, or a
 * resolver that strips them), or `failure` (no answer, SERVFAIL…). A
 * failure is reported as such, never as "no signatures" (C1). Never throws.
 */
import type { Answer } from 'dns-packet';
import { exchange, type DnsServer } from '../../dns/transport.ts';

export type RrsigExpiry =
  | { kind: 'signed'; name: string; type: string; expires: Date; signer: string }
  | { kind: 'none'; name: string; type: string }
  | { kind: 'failure'; name: string; type: string; detail: string };

interface RrsigAnswer { name: string; type: 'RRSIG'; data: { typeCovered: string; expiration: number; signersName: string } }

function isCoveringRrsig(a: Answer, type: string): a is Answer & RrsigAnswer {
  if (a.type !== 'RRSIG' || !('data' in a)) return false;
  const d = a.data as { typeCovered?: unknown; expiration?: unknown };
  return d.typeCovered === type && typeof d.expiration === 'number';
}

/** Earliest RRSIG expiration over `name`/`type` as the resolver returns it. */
export async function rrsigExpiry(server: DnsServer, name: string, type: 'MX' | 'TLSA', timeoutMs: number): Promise<RrsigExpiry> {
  const o = await exchange(server, { name, type }, { timeoutMs });
  if (o.kind !== 'response') return { kind: 'failure', name, type, detail: o.detail };
  if (o.response.rcode !== 'NOERROR') return { kind: 'failure', name, type, detail: `answered ${o.response.rcode}` };
  const sigs = o.response.answers.filter((a) => isCoveringRrsig(a, type)) as unknown as RrsigAnswer[];
  if (sigs.length === 0) return { kind: 'none', name, type };
  const first = sigs.reduce((a, b) => (b.data.expiration < a.data.expiration ? b : a));
  return { kind: 'signed', name, type, expires: new Date(first.data.expiration * 1000), signer: first.data.signersName };
}
