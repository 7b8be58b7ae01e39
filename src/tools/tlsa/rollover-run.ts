/**
 * `dane-relay tlsa rollover`: print the rollover plan, or make one step of
 * it — as an nsupdate script, or as a TSIG-signed update to the primary —
 * and wait until the validating resolver returns the new RRset.
 *
 * Contract:
 * - The published RRset is read through the relay's DNS client from
 *   `--resolver` (trusted like the relay's: loopback by default, C6). A
 *   lookup failure refuses the step (never read as "no records", C1); an
 *   RRset that is not DNSSEC-validated refuses too (it would not count for
 *   DANE, C2). Without `--resolver` the plan assumes what it must and says so.
 * - Safety is rollover.ts: no step leaves the running certificate unmatched.
 * - After an update sent with `--server`, the resolver is asked again (cache
 *   cleared each time, every second, at most `waitSeconds`) until it returns
 *   exactly the new RRset, DNSSEC-validated; only then is "deploy the new
 *   certificate now" (publish) or "old record retired" (retire) printed.
 * - Exit 0 done, 1 refused / not confirmed in time, 2 usage or operational
 *   error. Never throws.
 */
import { readFile } from 'node:fs/promises';
import { createPublicKey } from 'node:crypto';
import { classifyTlsaAnswer } from '../../core/dane-status.ts';
import type { TlsaRecord } from '../../core/dns-result.ts';
import { formatTlsa } from '../../core/tlsa.ts';
import { buildDnsClientOptions, createDnsClient, parseServerAddress, type DnsClient } from '../../dns/index.ts';
import { renderNsupdate, sendUpdate, type TlsaRr, type TlsaUpdate } from './nsupdate.ts';
import { certInfo, parsePemChain } from './pem.ts';
import { publishStep, recordFor, retireStep, RolloverInputError, type RecordParams, type StepResult, type Subject } from './rollover.ts';
import { parseKeyFile, parseKeySpec, type TsigKey } from './tsig.ts';
import { liveLeafMismatch } from './rollover-live.ts';

export interface RolloverOptions {
  current: string;
  next?: string;
  nextKey?: string;
  old?: string;
  step?: 'publish' | 'retire';
  host?: string;
  port: number;
  ttl: number;
  params: RecordParams;
  resolver?: string;
  nsupdate?: boolean;
  server?: string;
  zone?: string;
  tsigKeyFile?: string;
  tsigKey?: string;
  waitSeconds: number;
  /** Service URL (`smtp://host:port`, `https://host`…) whose live certificate must be `--current`. */
  running?: string;
}

export interface RolloverIo { stdout: (s: string) => void; stderr: (s: string) => void; now?: () => Date; sleep?: (ms: number) => Promise<void> }

type CertSubject = Extract<Subject, { kind: 'cert' }>;

async function readCert(file: string): Promise<CertSubject & { names: string[] }> {
  const chain = parsePemChain(await readText(file));
  if ('error' in chain) throw new RolloverInputError(`${file}: ${chain.error}`);
  const leaf = chain.chain[0]!;
  return { kind: 'cert', der: leaf.der, x509: leaf.x509, label: `${file} (${leaf.subject}, until ${leaf.notAfter.toISOString()})`, names: leaf.names };
}

async function readKey(file: string): Promise<Subject> {
  try {
    const spki = createPublicKey(await readText(file)).export({ type: 'spki', format: 'der' });
    return { kind: 'key', spki: new Uint8Array(spki), label: `${file} (key)` };
  } catch (err) {
    if (err instanceof RolloverInputError) throw err;
    throw new RolloverInputError(`${file}: not a PEM key: ${(err as Error).message}`);
  }
}

async function readText(file: string): Promise<string> {
  try { return await readFile(file, 'utf8'); } catch (err) { throw new RolloverInputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`); }
}

const zoneLine = (owner: string, ttl: number, r: TlsaRr): string => `${owner}. ${ttl} IN TLSA ${formatTlsa(r)}`;
const sameSet = (a: TlsaRr[], b: TlsaRr[]): boolean => a.length === b.length && a.every((x) => b.some((y) => formatTlsa(x) === formatTlsa(y)));

type Published = { kind: 'known'; rrset: TlsaRr[] } | { kind: 'unknown' } | { kind: 'refused'; message: string };

async function lookupPublished(dns: DnsClient, owner: string, base: string): Promise<Published> {
  const status = classifyTlsaAnswer(await dns.lookup(owner, 'TLSA'), base);
  switch (status.kind) {
    case 'records': case 'unusable': return { kind: 'known', rrset: status.rrset.map((r: TlsaRecord) => ({ usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: r.data })) };
    case 'tempfail': return { kind: 'refused', message: `TLSA lookup of ${owner} failed (${status.detail}): not treated as "no records"; fix DNS first` }; // C1
    case 'not-applicable':
      if (status.why === 'insecure') return { kind: 'refused', message: `the TLSA RRset at ${owner} is not DNSSEC-validated by the resolver: it does not count for DANE` }; // C2
      return { kind: 'known', rrset: [] };
  }
}

function tsigKey(o: RolloverOptions, text: string | undefined): TsigKey {
  try {
    if (text !== undefined) return parseKeyFile(text);
    if (o.tsigKey !== undefined) return parseKeySpec(o.tsigKey);
  } catch (err) {
    throw new RolloverInputError(`TSIG key: ${(err as Error).message}`);
  }
  throw new RolloverInputError('--server needs --tsig-key-file FILE or --tsig-key [hmac-sha256:]NAME:SECRET');
}

async function waitForRrset(dns: DnsClient, owner: string, base: string, want: TlsaRr[], o: RolloverOptions, io: RolloverIo): Promise<boolean> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let i = 0; i <= o.waitSeconds; i++) {
    dns.clearCache();
    const p = await lookupPublished(dns, owner, base);
    if (p.kind === 'known' && sameSet(p.rrset, want)) return true;
    if (i < o.waitSeconds) await sleep(1000);
  }
  return false;
}

function printPlan(io: RolloverIo, owner: string, o: RolloverOptions, publish: StepResult, keep: TlsaRr[], assumed: boolean): void {
  if (publish.kind === 'refused') { io.stdout(`; publish: refused: ${publish.message}\n`); return; }
  const out = [`; 1. publish now (current + next)${assumed ? '; the published RRset was not looked up (--resolver): records already there are listed too' : ''}:`,
    ...publish.after.map((r) => zoneLine(owner, o.ttl, r)),
    `; 2. wait at least 2 x TTL (${2 * o.ttl} s) after the publication is visible, then deploy the next certificate`,
    '; 3. then keep (retire the old record): tlsa rollover --step retire --current NEXT.pem --old OLD.pem',
    ...keep.map((r) => zoneLine(owner, o.ttl, r))];
  io.stdout(`${out.join('\n')}\n`);
}

/** Run the command (see the module contract). */
export async function runRollover(o: RolloverOptions, io: RolloverIo): Promise<0 | 1 | 2> {
  let dns: DnsClient | null = null;
  const now = (io.now ?? (() => new Date()))();
  try {
    const current = await readCert(o.current);
    const host = (o.host ?? current.names[0] ?? '').toLowerCase().replace(/\.$/, '');
    if (host === '') throw new RolloverInputError('--host is needed: the certificate has no DNS name');
    const owner = `_${o.port}._tcp.${host}`;
    if (o.resolver !== undefined) dns = createDnsClient(await buildDnsClientOptions({ servers: [o.resolver] }));
    const published: Published = dns ? await lookupPublished(dns, owner, host) : { kind: 'unknown' };
    if (published.kind === 'refused') { io.stderr(`dane-relay tlsa rollover: ${published.message}\n`); return 1; }
    const known = published.kind === 'known' ? published.rrset : null;
    if (o.running !== undefined) {
      const mismatch = await liveLeafMismatch(o.running, current, dns);
      if (mismatch !== null) { io.stderr(`dane-relay tlsa rollover: ${mismatch}\n`); return 1; }
    }
    if (o.step === undefined) {
      const next = o.nextKey !== undefined ? await readKey(o.nextKey) : o.next !== undefined ? await readCert(o.next) : null;
      if (!next) throw new RolloverInputError('give the next certificate (--next FILE) or key (--next-key FILE)');
      const publish = publishStep(known ?? [], current, next, o.params, now);
      const keep = publish.kind === 'ok' ? publish.after.filter((r) => formatTlsa(r) !== formatTlsa(recordFor(current, o.params)) || formatTlsa(r) === formatTlsa(recordFor(next, o.params))) : [];
      printPlan(io, owner, o, publish, keep, known === null);
      return publish.kind === 'ok' ? 0 : 1;
    }
    const result = await stepResult(o, current, known, now);
    if (result.kind === 'refused') { io.stderr(`dane-relay tlsa rollover: ${result.message}\n`); return 1; }
    io.stdout(`; RRset at ${owner} after this step:\n${result.after.map((r) => zoneLine(owner, o.ttl, r)).join('\n')}\n`);
    if (result.ops.length === 0) { io.stdout('; nothing to change: the published RRset is already what this step makes\n'); return 0; }
    const update: TlsaUpdate = { zone: o.zone ?? host, owner, ttl: o.ttl, ops: result.ops };
    if (o.server === undefined) {
      io.stdout(o.nsupdate ? renderNsupdate(update) : result.ops.map((x) => `; ${x.op} ${formatTlsa(x.record)}\n`).join(''));
      return 0;
    }
    return await perform(o, update, result.after, owner, host, dns, io);
  } catch (err) {
    io.stderr(`dane-relay tlsa rollover: ${(err as Error).message}\n`);
    return 2;
  } finally {
    if (dns) await dns.close();
  }
}

async function stepResult(o: RolloverOptions, current: CertSubject, known: TlsaRr[] | null, now: Date): Promise<StepResult> {
  if (o.step === 'publish') {
    const next = o.nextKey !== undefined ? await readKey(o.nextKey) : o.next !== undefined ? await readCert(o.next) : null;
    if (!next) throw new RolloverInputError('--step publish needs --next FILE or --next-key FILE');
    return publishStep(known ?? [], current, next, o.params, now);
  }
  if (o.old === undefined) throw new RolloverInputError('--step retire needs --old FILE (the certificate or key being retired) and --current FILE (the one now running)');
  const old = /PRIVATE KEY|PUBLIC KEY/.test(await readText(o.old)) && !/CERTIFICATE/.test(await readText(o.old)) ? await readKey(o.old) : await readCert(o.old);
  return retireStep(known ?? [recordFor(old, o.params), recordFor(current, o.params)], current, old, o.params, now);
}

async function perform(o: RolloverOptions, update: TlsaUpdate, after: TlsaRr[], owner: string, host: string, dns: DnsClient | null, io: RolloverIo): Promise<0 | 1 | 2> {
  if (o.zone === undefined) throw new RolloverInputError('--server needs --zone ZONE');
  const key = tsigKey(o, o.tsigKeyFile !== undefined ? await readText(o.tsigKeyFile) : undefined);
  const server = parseServerAddress(o.server as string);
  const sent = await sendUpdate(update, server, key, 10_000, io.now);
  if (sent.kind === 'refused') { io.stderr(`dane-relay tlsa rollover: update refused by ${o.server}: ${sent.reason}; nothing was changed\n`); return 1; }
  io.stdout(`; update accepted by ${o.server} (TSIG ${key.name} verified)\n`);
  if (!dns) { io.stdout('; no --resolver: cannot confirm the publication; check before deploying\n'); return 0; }
  if (!(await waitForRrset(dns, owner, host, after, o, io))) {
    io.stderr(`dane-relay tlsa rollover: the resolver ${o.resolver} does not return the new RRset (validated) after ${o.waitSeconds} s; do not deploy yet\n`);
    return 1;
  }
  io.stdout(`; the validating resolver ${o.resolver} returns the new RRset (DNSSEC-validated)\n`);
  io.stdout(o.step === 'publish'
    ? `deploy the new certificate now\n; (resolvers that cached the old RRset keep it for at most its TTL; retire the old record after 2 x TTL = ${2 * o.ttl} s)\n`
    : 'old record retired\n');
  return 0;
}
