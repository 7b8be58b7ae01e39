/**
 * `tlsa rollover --running URL`: is `--current` really the certificate the
 * service presents now? The rollover steps are only safe for the running
 * certificate (rollover.ts), so a step computed for another one is refused.
 *
 * Contract: the URL is a check target (service/target.ts); the host's first
 * address comes from the relay's DNS client (`--resolver`), the chain from
 * service/connect.ts (STARTTLS as the scheme says, SNI = host). Returns null
 * when the presented leaf is byte-for-byte `current`, else the reason (also
 * when the address or the chain cannot be had: unknown is not "the same").
 */
import { X509Certificate } from 'node:crypto';
import type { DnsClient } from '../../dns/index.ts';
import { connectService } from '../service/connect.ts';
import { parseTarget } from '../service/target.ts';

export async function liveLeafMismatch(url: string, current: { der: Uint8Array; label: string }, dns: DnsClient | null): Promise<string | null> {
  const t = parseTarget(url);
  if ('error' in t || t.kind !== 'service') return `--running: ${'error' in t ? t.error : 'expected a service URL such as smtp://HOST:PORT'}`;
  if (!dns) return '--running needs --resolver to find the address of the service';
  const a = await dns.lookup(t.host, 'A');
  const ip = a.kind === 'secure' || a.kind === 'insecure' ? a.records[0]?.address : undefined;
  if (ip === undefined) return `--running: no address for ${t.host} (${a.kind})`;
  const c = await connectService({ ip, port: t.port, servername: t.host, starttls: t.starttls, ehloName: 'dane-relay-rollover', timeoutMs: 10_000 });
  if (c.kind === 'error') return `--running: cannot read the certificate of ${t.url}: ${c.stage}: ${c.detail}`;
  const leaf = c.chain[0];
  if (leaf && Buffer.from(leaf).equals(Buffer.from(current.der))) return null;
  let who = 'no certificate';
  try { if (leaf) who = new X509Certificate(Buffer.from(leaf)).subject.split('\n').join(', ') + `, sha256 ${new X509Certificate(Buffer.from(leaf)).fingerprint256}`; } catch { who = 'an unparseable certificate'; }
  return `${t.url} presents ${who}, not --current ${current.label}: the step is refused (it must be computed for the certificate actually running)`;
}
