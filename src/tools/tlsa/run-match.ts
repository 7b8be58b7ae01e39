/**
 * `dane-relay tlsa match CHAIN.pem (--record "3 1 1 HEX"… | --lookup HOST)`:
 * the pre-deployment check for a key or certificate rollover.
 *
 * Contract: returns the exit status —
 * - 0 the chain matches (warnings about fragile records go to stderr),
 * - 1 nothing matches, no usable record, no TLSA published, or the published
 *   RRset is not DNSSEC-validated (the relay would ignore it, C2),
 * - 2 usage error, unreadable file, or the TLSA lookup failed (C4).
 * Matching is match.ts (core verifyPeer); the lookup is lookup.ts (the relay's
 * DNS client and TLSA classification, CNAME rule C11 included; AD bit believed
 * only from trusted resolvers: C6).
 */
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.ts';
import { normaliseName } from '../../core/reference-names.ts';
import { DnsConfigError, type DnsClient } from '../../dns/index.ts';
import { buildDnsClient } from '../../dns/from-config.ts';
import { lookupTlsa, tlsaOwner, type TlsaLookupOutcome } from './lookup.ts';
import { matchChain, type MatchResult, type TlsaInput } from './match.ts';
import { parsePemChain, type CertInfo } from './pem.ts';
import type { ToolIo } from './run-generate.ts';

export interface MatchCliOptions {
  chainFile: string;
  records: string[];
  lookup?: string;
  resolver?: string;
  host?: string;
  port: number;
  json?: boolean;
}

/** `3 1 1 HEX`, also a whole zone line (`_25._tcp.mx. IN TLSA 3 1 1 HEX`), hex may contain spaces. */
export function parseRecordArg(value: string): TlsaInput | undefined {
  const afterType = value.replace(/^.*\bTLSA\b/i, '');
  const m = /^\s*(\d{1,3})\s+(\d{1,3})\s+(\d{1,3})\s+([0-9a-fA-F\s]+?)\s*$/.exec(afterType);
  const hex = m?.[4]?.replace(/\s+/g, '') ?? '';
  if (!m || hex.length === 0 || hex.length % 2 !== 0) return undefined;
  return { usage: Number(m[1]), selector: Number(m[2]), matchingType: Number(m[3]), data: new Uint8Array(Buffer.from(hex, 'hex')) };
}

type Source = { kind: 'ok'; records: TlsaInput[]; owner: string | null } | { kind: 'stop'; code: number; message: string; json: object };

/** The relay's DNS client (`buildDnsClient`, default configuration), `--resolver` replacing the resolvers. */
async function dnsClient(resolver: string | undefined): Promise<DnsClient> {
  const config = loadConfig(undefined);
  return buildDnsClient({ ...config, dns: { ...config.dns, resolvers: resolver !== undefined ? [resolver] : config.dns.resolvers } });
}

function stopFor(r: Exclude<TlsaLookupOutcome, { kind: 'records' }>, dns: DnsClient): Source {
  switch (r.kind) {
    case 'insecure': return { kind: 'stop', code: 1, message: `the TLSA RRset at ${r.owner} is not DNSSEC-validated: the relay would ignore it. ${dns.describeTrust()}`, json: { result: 'insecure', owner: r.owner } };
    case 'none': return { kind: 'stop', code: 1, message: `no TLSA records at ${r.owner} (${r.why}, DNSSEC-validated): the relay would not use DANE for this host`, json: { result: 'none', owner: r.owner, why: r.why, secure: true } };
    case 'failure': return { kind: 'stop', code: 2, message: `TLSA lookup for ${r.owner} failed (${r.detail}): the relay would not use this host at all`, json: { result: 'failure', owner: r.owner, detail: r.detail } };
  }
}

async function fromLookup(host: string, opts: MatchCliOptions, io: ToolIo): Promise<Source> {
  let dns: DnsClient;
  try {
    dns = await dnsClient(opts.resolver);
  } catch (e) {
    if (e instanceof DnsConfigError) return { kind: 'stop', code: 2, message: e.message, json: { result: 'usage', error: e.message } };
    throw e;
  }
  try {
    const r = await lookupTlsa(dns, host, opts.port);
    if (!r.addressesSecure) io.stderr(`note: the address records of ${host} are not DNSSEC-validated (or missing): the relay would not look up TLSA for it\n`); // C10
    return r.kind === 'records' ? { kind: 'ok', records: r.records, owner: r.owner } : stopFor(r, dns);
  } finally {
    await dns.close();
  }
}

function describeRecords(r: MatchResult, chain: CertInfo[]): string {
  return r.records.map((x) => {
    const short = x.record.length > 40 ? `${x.record.slice(0, 38)}…` : x.record;
    const where = x.depth === undefined ? '' : ` at depth ${x.depth} (${x.depth === 0 ? 'leaf' : 'CA'} ${chain[x.depth]?.subject ?? '?'})`;
    const what = x.status === 'match' ? `MATCHES${where}${x.fragile ? ` — but ${x.fragile}` : ''}` : `${x.status}: ${x.reason ?? ''}`;
    return `  ${short}  ${x.description}: ${what}\n`;
  }).join('');
}

function summaryLine(r: MatchResult): string {
  if (r.kind === 'match') return `Result: MATCH — the relay would authenticate this chain (${r.verdict?.state ?? '?'}; ${r.verdict?.matched?.record.split(' ').slice(0, 3).join(' ') ?? ''} at depth ${r.verdict?.matched?.depth ?? '?'})\n`;
  if (r.kind === 'no-usable') return 'Result: NO MATCH — no usable TLSA record\n';
  return `Result: NO MATCH — the relay would not use this host (${r.verdict?.reason ?? 'no record matches'}; C16: next MX, then defer 4.7.5)\n`;
}

async function recordsFor(opts: MatchCliOptions, io: ToolIo): Promise<Source> {
  if ((opts.records.length > 0) === (opts.lookup !== undefined)) {
    return { kind: 'stop', code: 2, message: 'give either --record (one or more) or --lookup HOST', json: { result: 'usage' } };
  }
  if (opts.lookup !== undefined) return fromLookup(opts.lookup, opts, io);
  const parsed = opts.records.map((v) => ({ v, r: parseRecordArg(v) }));
  const bad = parsed.find((p) => p.r === undefined);
  if (bad) return { kind: 'stop', code: 2, message: `--record wants "USAGE SELECTOR MATCHING HEX", got "${bad.v}"`, json: { result: 'usage' } };
  return { kind: 'ok', records: parsed.map((p) => p.r as TlsaInput), owner: opts.host ? tlsaOwner(opts.host, opts.port) : null };
}

export async function runMatch(opts: MatchCliOptions, io: ToolIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(opts.chainFile, 'utf8');
  } catch (e) {
    io.stderr(`dane-relay tlsa match: cannot read ${opts.chainFile}: ${(e as Error).message}\n`);
    return 2;
  }
  const parsed = parsePemChain(text);
  if ('error' in parsed) { io.stderr(`dane-relay tlsa match: ${opts.chainFile}: ${parsed.error}\n`); return 2; }
  const src = await recordsFor(opts, io);
  if (src.kind === 'stop') {
    io.stderr(`dane-relay tlsa match: ${src.message}\n`);
    if (opts.json) io.stdout(JSON.stringify(src.json, null, 2) + '\n');
    return src.code;
  }
  // Reference names (C24): --host and the --lookup name (the TLSA base domain), else the
  // leaf's own names — which makes the DANE-TA name check vacuous: say so.
  const given = [...new Set([opts.host, opts.lookup].filter((n): n is string => n !== undefined).map(normaliseName))];
  const names = given.length > 0 ? given : (parsed.chain[0] as CertInfo).names;
  if (given.length === 0) io.stderr(`note: no --host: DANE-TA(2) name check against the certificate's own names [${names.join(', ')}]\n`);
  const r = matchChain({ chain: parsed.chain, records: src.records, referenceNames: names, now: io.now() });
  for (const w of r.warnings) io.stderr(`warning: ${w}\n`);
  if (opts.json) {
    io.stdout(JSON.stringify({ result: r.kind, owner: src.owner, referenceNames: names, verdict: r.verdict, records: r.records, warnings: r.warnings }, null, 2) + '\n');
  } else {
    io.stdout(`${src.owner ? `TLSA records at ${src.owner}` : 'TLSA records given'}, chain of ${parsed.chain.length} from ${opts.chainFile}\n${describeRecords(r, parsed.chain)}${summaryLine(r)}`);
  }
  return r.kind === 'match' ? 0 : 1;
}
