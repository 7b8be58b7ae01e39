/**
 * A staged next certificate (e.g. certbot's renewed `fullchain.pem` before
 * the service is reloaded) checked against the TLSA RRset published now.
 *
 * Contract: the records are the usable ones the check reported for the
 * target's host (SMTP profile for MX/smtp:// targets, service profile for
 * the others: the report already applied it); the match is core
 * `verifyService` (DANE-EE/DANE-TA as for SMTP; PKIX usages with PKIX
 * validation and the name). No published usable record, or an unreadable
 * file, is a mismatch with the reason. Never throws.
 */
import { readFile } from 'node:fs/promises';
import type { X509Certificate } from 'node:crypto';
import { verifyService, type ServiceTlsa } from '../../core/service-dane.ts';
import type { DomainReport } from '../check/types.ts';
import { parsePemChain } from '../tlsa/pem.ts';
import type { StagedCheck } from './observe.ts';

/** `3 1 1 ab…` back to fields (the report's presentation form). */
function parseRecord(s: string): ServiceTlsa | null {
  const m = /^([0-3]) ([01]) ([0-2]) ([0-9a-f]+)$/.exec(s);
  if (!m) return null;
  return { usage: Number(m[1]) as ServiceTlsa['usage'], selector: Number(m[2]) as 0 | 1, matchingType: Number(m[3]) as 0 | 1 | 2, data: new Uint8Array(Buffer.from(m[4] ?? '', 'hex')) };
}

export async function checkStaged(report: DomainReport, file: string, anchors: X509Certificate[], now: Date): Promise<StagedCheck> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { file, matched: false, detail: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const chain = parsePemChain(text);
  if ('error' in chain) return { file, matched: false, detail: chain.error };
  const hosts = report.hosts.filter((h) => h.tlsa.status === 'records');
  if (hosts.length === 0) return { file, matched: false, detail: 'no usable TLSA record is published for this target' };
  for (const h of hosts) {
    const records = h.tlsa.records.filter((r) => r.usable).map((r) => parseRecord(r.record)).filter((r): r is ServiceTlsa => r !== null);
    const v = verifyService(records, chain.chain.map((c) => c.der), h.tlsa.base ?? h.host, anchors, now);
    if (!v.authenticated) return { file, matched: false, detail: `${h.tlsa.owner ?? h.host}: ${v.reason ?? 'no match'}` };
  }
  return { file, matched: true, detail: 'matches the published TLSA' };
}
