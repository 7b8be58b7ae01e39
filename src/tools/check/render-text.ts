/**
 * `dane-relay check` for a person: an indented outline of a `CheckReport`
 * (the `--json` output carries the same facts).
 *
 * Contract: pure; the output ends with a newline; ANSI colour only when
 * `color` is true (the caller decides: a terminal and no NO_COLOR); text that
 * came from the network or DNS (reasons, certificate names) has its control
 * characters replaced, so a server cannot drive the terminal. Long Full(0)
 * association data is shortened for reading; JSON keeps it whole.
 */
import type { AddressReport, CertReport, CheckReport, DomainReport, HostReport, TlsaReport } from './types.ts';

type Paint = (s: string) => string;
interface Palette { good: Paint; bad: Paint; warn: Paint; dim: Paint; bold: Paint }

const ansi = (code: string): Paint => (s) => `\u001b[${code}m${s}\u001b[0m`;
const plain: Paint = (s) => s;

function palette(color: boolean): Palette {
  if (!color) return { good: plain, bad: plain, warn: plain, dim: plain, bold: plain };
  return { good: ansi('32'), bad: ansi('31'), warn: ansi('33'), dim: ansi('2'), bold: ansi('1') };
}

/** No control characters from remote data reach the terminal. */
export function clean(s: string | null | undefined): string {
  return (s ?? '-').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** `3 1 1 <hex>` with the data cut after 64 hex digits. */
function shortRecord(record: string): string {
  const parts = record.split(' ');
  const hex = parts[3] ?? '';
  return hex.length > 64 ? `${parts.slice(0, 3).join(' ')} ${hex.slice(0, 64)}… (${hex.length / 2} bytes)` : record;
}

function verdictWord(v: string, p: Palette): string {
  const word = v.toUpperCase();
  return v === 'pass' ? p.good(word) : v === 'fail' ? p.bad(word) : p.warn(word);
}

function tlsaLines(t: TlsaReport, p: Palette): string[] {
  const head = `TLSA ${t.owner ?? ''}${t.owner ? ' ' : ''}(${t.dnssec})${t.detail ? `: ${clean(t.detail)}` : ''}`;
  const lines = [t.status === 'tempfail' ? p.bad(head) : head];
  for (const r of t.records) {
    const note = r.usable ? '' : p.warn(`  [not used: ${clean(r.note)}]`);
    lines.push(`  ${shortRecord(r.record)}  ${p.dim(r.description)}${note}`);
  }
  return lines;
}

function certLines(c: CertReport, p: Palette): string[] {
  const who = c.subject === null ? p.bad('(certificate does not parse)') : clean(c.subject);
  const lines = [`depth ${c.depth}: ${who}`, p.dim(`  issuer ${clean(c.issuer)}; valid ${c.notBefore ?? '-'} .. ${c.notAfter ?? '-'}; sha256 ${c.sha256}`)];
  for (const m of c.marks) lines.push(`  ${shortRecord(m.record)}  ${m.matched ? p.good('matched') : p.dim('not matched')}`);
  return lines;
}

function addressLines(a: AddressReport, host: string, p: Palette): string[] {
  const lines = [`${host}[${a.ip}]:${a.port}  ${verdictWord(a.verdict, p)}  ${p.dim(`tls=${a.feature}`)}`];
  const sni = a.sni ? `SNI ${clean(a.sni)}` : 'no SNI';
  if (a.tls) lines.push(`  TLS ${clean(a.tls.protocol)} ${clean(a.tls.cipher)}${a.tls.bits ? ` (${a.tls.bits} bits)` : ''}, ${sni}`);
  else lines.push('  no TLS session');
  if (a.chain) {
    lines.push('  presented chain:');
    if (a.chain.error) lines.push(p.warn(`    not available: ${clean(a.chain.error)}`));
    for (const c of a.chain.certificates) lines.push(...certLines(c, p).map((l) => `    ${l}`));
  }
  if (a.state) {
    const state = a.state === 'Verified' ? p.good(a.state) : a.state === 'Trusted' ? a.state : p.warn(a.state);
    lines.push(`  state ${state}${a.matched ? ` (matched ${shortRecord(a.matched.record)} at depth ${a.matched.depth})` : ''}`);
  }
  if (a.reason) lines.push(`  ${a.verdict === 'fail' ? p.bad(clean(a.reason)) : p.warn(clean(a.reason))}${a.dsn ? ` (${a.dsn})` : ''}`);
  if (a.detail) lines.push(`  ${clean(a.detail)}`);
  if (a.stsTesting) lines.push(`  ${clean(a.stsTesting)}`);
  return lines;
}

function hostLines(h: HostReport, p: Palette): string[] {
  const pref = h.preference === null ? '' : ` (preference ${h.preference})`;
  const lines = [p.bold(`${clean(h.host)}${pref}`)];
  const sec = h.addresses.secure === null ? 'unknown' : h.addresses.secure ? 'secure' : 'insecure';
  lines.push(`  addresses (${sec}): ${h.addresses.list.length > 0 ? h.addresses.list.join(', ') : '-'}`);
  lines.push(...tlsaLines(h.tlsa, p).map((l) => `  ${l}`));
  if (h.policy) {
    const q = h.policy;
    const what = q.kind === 'skip' ? 'host not used'
      : `${q.tlsRequired ? 'TLS required' : 'TLS optional'}, auth ${q.auth}, ${q.sni ? `SNI ${clean(q.sni)}` : 'no SNI'}`;
    lines.push(`  policy ${q.level} (tls=${q.feature}, dane=${q.daneResult}): ${what}`);
    lines.push(p.dim(`    ${clean(q.reason)}`));
  }
  if (h.source) lines.push(`  source: ${clean(h.source)}`);
  if (h.skipped) lines.push(`  ${p.bad('skipped')}: ${clean(h.skipped.reason)} (${h.skipped.dsn})`);
  for (const a of h.connections) lines.push(...addressLines(a, h.host, p).map((l) => `  ${l}`));
  return lines;
}

function domainLines(d: DomainReport, p: Palette): string[] {
  const lines = [`${p.bold(clean(d.domain))}  ${verdictWord(d.verdict, p)}${d.nextHop !== d.domain ? p.dim(` (next hop ${clean(d.nextHop)})`) : ''}`];
  const mx = d.mx.records.map((r) => `${r.preference} ${clean(r.host)}`).join(', ');
  lines.push(`  MX (${clean(d.mx.dnssec)})${mx ? `: ${mx}` : ''}`);
  if (d.policy) lines.push(p.dim(`  policy ${d.policy.level} (from ${clean(d.policy.source)})`));
  if (d.sts) lines.push(`  ${clean(d.sts)}`);
  for (const h of d.hosts) lines.push(...hostLines(h, p).map((l) => `  ${l}`));
  for (const n of d.notes) lines.push(`  note: ${clean(n)}`);
  if (d.verdict === 'pass') lines.push(`  verdict: ${p.good('pass')}, deliverable via ${clean(d.deliverVia)}`);
  else if (d.verdict === 'degraded') lines.push(`  verdict: ${p.warn('degraded')}, deliverable via ${clean(d.deliverVia)}, but: ${clean(d.reason)} (${d.dsn ?? '-'})`);
  else lines.push(`  verdict: ${p.bad('fail')}: ${clean(d.reason)} (${d.dsn ?? '-'})`);
  return lines;
}

export function renderText(report: CheckReport, color: boolean): string {
  const p = palette(color);
  const out: string[] = [];
  if (!report.dnssecProbe.ok) out.push(p.warn(`warning: ${clean(report.dnssecProbe.reason)}`), '');
  for (const d of report.domains) out.push(...domainLines(d, p), '');
  const s = report.summary;
  out.push(`${s.domains} domain(s): ${p.good(`${s.pass} pass`)}, ${s.degraded ? p.warn(`${s.degraded} degraded`) : '0 degraded'}, ${s.fail ? p.bad(`${s.fail} fail`) : '0 fail'}`);
  return out.join('\n') + '\n';
}
