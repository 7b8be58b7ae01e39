/**
 * `dane-relay tlsa generate`: read a PEM chain (or fetch one from a live
 * server), print TLSA zone-file lines for people or JSON for scripts.
 *
 * Contract: returns the exit status — 0 records printed, 2 usage or
 * operational error (unreadable file, no certificate, bad values, server
 * unreachable or STARTTLS failing); messages go to stderr. Warnings (fragile
 * records, expiring CA) go to stderr and do not change the status.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { generateTlsa, type GenerateResult } from './generate.ts';
import { certInfo, parsePemChain, type CertInfo } from './pem.ts';
import { fetchPresentedChain } from './starttls-chain.ts';
import { parseHostPort } from '../../config/host-port.ts';

export interface ToolIo { stdout: (s: string) => void; stderr: (s: string) => void; now: () => Date }

export interface GenerateCliOptions {
  certFile?: string;
  connect?: string;
  starttls?: string;
  host?: string;
  port: number;
  usage?: number;
  selector?: number;
  matchingType?: number;
  json?: boolean;
  timeoutMs: number;
  ehlo?: string;
}

async function loadChain(opts: GenerateCliOptions): Promise<{ chain: CertInfo[] } | { error: string }> {
  if (opts.certFile !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.certFile, 'utf8');
    } catch (e) {
      return { error: `cannot read ${opts.certFile}: ${(e as Error).message}` };
    }
    const parsed = parsePemChain(text);
    return 'error' in parsed ? { error: `${opts.certFile}: ${parsed.error}` } : parsed;
  }
  const target = parseHostPort(opts.connect ?? '');
  if (!target || target.port === 0) return { error: `--connect wants HOST:PORT, got "${opts.connect ?? ''}"` };
  if (opts.starttls !== undefined && opts.starttls !== 'smtp') return { error: `--starttls supports only "smtp", got "${opts.starttls}"` };
  const r = await fetchPresentedChain({
    ...target, starttls: opts.starttls === 'smtp' ? 'smtp' : 'none', servername: opts.host ?? target.host,
    ehloName: opts.ehlo ?? hostname(), timeoutMs: opts.timeoutMs,
  });
  if (r.kind === 'error') return { error: `${opts.connect}: ${r.stage}: ${r.detail}` };
  try {
    return { chain: r.chain.map((der) => certInfo(der)) };
  } catch (e) {
    return { error: `${opts.connect}: the server presented a certificate that does not parse: ${(e as Error).message}` };
  }
}

function renderText(r: Extract<GenerateResult, { kind: 'ok' }>): string {
  return r.records.map((rec) =>
    `; ${rec.description} — ${rec.depth === 0 ? 'leaf' : 'issuing CA'} ${rec.subject}, expires ${rec.notAfter}\n${rec.line}\n`).join('');
}

export async function runGenerate(opts: GenerateCliOptions, io: ToolIo): Promise<number> {
  if ((opts.certFile === undefined) === (opts.connect === undefined)) {
    io.stderr('dane-relay tlsa generate: give either CERT.pem or --connect HOST:PORT\n');
    return 2;
  }
  const loaded = await loadChain(opts);
  if ('error' in loaded) {
    io.stderr(`dane-relay tlsa generate: ${loaded.error}\n`);
    return 2;
  }
  const r = generateTlsa(loaded.chain, { host: opts.host, port: opts.port, usage: opts.usage, selector: opts.selector, matchingType: opts.matchingType, now: io.now() });
  if (r.kind === 'error') {
    io.stderr(`dane-relay tlsa generate: ${r.message}\n`);
    return 2;
  }
  for (const w of r.warnings) io.stderr(`warning: ${w}\n`);
  io.stdout(opts.json ? JSON.stringify({ owner: r.owner, records: r.records, warnings: r.warnings }, null, 2) + '\n' : renderText(r));
  return 0;
}
