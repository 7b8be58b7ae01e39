/**
 * Runs INSIDE the lab namespace (`ip netns exec NS node --import tsx
 * test/interop/dns-probe.ts NAME:TYPE …`): asks the lab Unbound at
 * 127.0.0.1:53 through the project's own DNS client and prints one JSON
 * object on stdout: `{ probe: DnssecProbeResult, results: [{ name, type, result }] }`
 * (Uint8Array fields as hex). Exit 0 when it could ask; 2 on bad arguments.
 * It decides nothing: the calling test asserts.
 */
import type { RecordType } from '../../src/core/dns-result.ts';
import { createDnsClient, probeDnssec } from '../../src/dns/index.ts';

const TYPES: readonly RecordType[] = ['A', 'AAAA', 'MX', 'TLSA', 'CNAME', 'NS', 'SOA', 'TXT'];

function parseArg(arg: string): { name: string; type: RecordType } {
  const i = arg.lastIndexOf(':');
  const type = arg.slice(i + 1).toUpperCase() as RecordType;
  if (i <= 0 || !TYPES.includes(type)) {
    process.stderr.write(`dns-probe: bad query "${arg}" (want NAME:TYPE)\n`);
    process.exit(2);
  }
  return { name: arg.slice(0, i), type };
}

const queries = process.argv.slice(2).map(parseArg);
const client = createDnsClient({
  servers: [{ host: '127.0.0.1', port: 53 }],
  trustedNetworks: ['127.0.0.0/8', '::1/128'],
  timeoutMs: 2000,
  attempts: 2,
  cache: { maxEntries: 1000, maxTtlSeconds: 3600, failureTtlSeconds: 5, negativeMaxTtlSeconds: 3600 },
});
try {
  const probe = await probeDnssec(client, { name: '.', type: 'NS' });
  const results = [];
  for (const q of queries) results.push({ ...q, result: await client.lookup(q.name, q.type) });
  const hex = (_k: string, v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);
  process.stdout.write(`${JSON.stringify({ probe, results }, hex)}\n`);
} finally {
  await client.close();
}
