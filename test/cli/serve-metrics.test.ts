/**
 * `dane-relay serve` end to end with metrics on: a verified delivery through
 * the lab resolver moves the Prometheus counters as it implies, SIGHUP
 * reopens the renamed `log.maillog` in both threads (the delivery thread's
 * `status=sent` lines land in the new file), `/healthz`
 * flips to not-ready when the resolver stops validating (C6), SIGTERM exits 0;
 * the same with the delivery engine in the main thread
 * (`delivery.engine_thread: false`, whose engine module is loaded only
 * then); and a relay configured for DANE refuses to start behind a resolver
 * that does not validate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { tlsaData } from '../../src/lab/lab-pki.ts';
import { startLabResolver, type LabZone } from '../../src/lab/lab-resolver.ts';
import { startMxServer } from '../../src/lab/mx-server.ts';
import { submitMessage } from '../../src/lab/submit.ts';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitFor(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startServe(configFile: string): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/dane-relay.js', 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

function metricValue(text: string, line: string): number | undefined {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
}

async function labWorld() {
  const cert = await createSelfSigned({ dnsNames: ['mx.metrics.test'] });
  const mx = await startMxServer({ host: '127.0.0.2', port: 0, mode: 'starttls', chain: [cert], label: 'mx' });
  const zones: LabZone[] = [{
    origin: 'metrics.test', signed: true, records: [
      { name: 'metrics.test', type: 'MX', data: { preference: 10, exchange: 'mx.metrics.test' } },
      { name: 'mx.metrics.test', type: 'A', data: '127.0.0.2' },
      { name: `_${mx.port}._tcp.mx.metrics.test`, type: 'TLSA', data: { usage: 3, selector: 1, matchingType: 1, certificate: tlsaData(cert, 1, 1) } },
    ],
  }];
  const resolver = await startLabResolver({ zones });
  return { mx, resolver };
}

interface Served {
  relay: ReturnType<typeof startServe>;
  mx: Awaited<ReturnType<typeof labWorld>>['mx'];
  resolver: Awaited<ReturnType<typeof labWorld>>['resolver'];
  relayPort: number;
  metricsPort: number;
  /** `log.maillog` (Postfix-format lines; the JSON log stays on stdout). */
  maillog: string;
}

/** `serve` with metrics on, in front of the lab world (`delivery` lines added to its section); everything is stopped and removed after `fn`. */
async function withServe(delivery: string[], fn: (s: Served) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dr-serve-'));
  const { mx, resolver } = await labWorld();
  const [relayPort, metricsPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'relay.yaml');
  await writeFile(configFile, [
    `listen: ["127.0.0.1:${relayPort}"]`, `spool: ${join(dir, 'spool')}`, 'myhostname: relay.metrics.test',
    'dns:', `  resolvers: ["${resolver.address}"]`,
    'delivery:', `  port: ${mx.port}`, ...delivery,
    'metrics:', `  listen: "127.0.0.1:${metricsPort}"`, '  health_interval: 1s',
    'log:', `  maillog: ${join(dir, 'maillog')}`, '',
  ].join('\n'));
  const relay = startServe(configFile);
  try {
    await fn({ relay, mx, resolver, relayPort, metricsPort, maillog: join(dir, 'maillog') });
  } finally {
    relay.child.kill('SIGKILL');
    await mx.close();
    await resolver.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('serve with metrics: counters follow a verified delivery; /healthz flips when DNSSEC validation stops (C6)', async () => {
  await withServe([], async ({ relay, mx, resolver, relayPort, metricsPort, maillog }) => {
    await waitFor('relay start', 20_000, () => relay.output().includes('daemon started'));
    const sent = await submitMessage({ host: '127.0.0.1', port: relayPort, from: 'a@relay.metrics.test', to: 'b@metrics.test', subject: 'metrics' });
    assert.equal(sent.kind, 'queued');
    await waitFor('delivery at the MX', 20_000, () => mx.messages().length === 1);
    assert.equal(mx.messages()[0]?.secure, true);
    const base = `http://127.0.0.1:${metricsPort}`;
    let text = '';
    await waitFor('sent counter', 10_000, async () => {
      text = await (await fetch(`${base}/metrics`)).text();
      return metricValue(text, 'dane_relay_recipients_total{status="sent"}') === 1;
    });
    assert.equal(metricValue(text, 'dane_relay_messages_accepted_total'), 1);
    assert.equal(metricValue(text, 'dane_relay_tls_sessions_total{state="Verified",level="dane"}'), 1);
    assert.equal(metricValue(text, 'dane_relay_queue_messages'), 0);
    assert.ok((metricValue(text, 'dane_relay_dns_lookups_total{type="TLSA",result="secure"}') ?? 0) >= 1, text);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    // SIGHUP: the delivery thread builds a new engine and keeps its DNS client, so a second message is
    // delivered the same way and the counters go on from where they were (never backwards).
    const queriesBefore = metricValue(text, 'dane_relay_dns_queries_sent_total') ?? 0;
    // logrotate renames, then signals: both threads reopen log.maillog by name.
    await waitFor('the first delivery in the maillog', 10_000, async () => /to=<b@metrics\.test>.*status=sent/.test(await readFile(maillog, 'utf8')));
    await rename(maillog, `${maillog}.1`);
    relay.child.kill('SIGHUP');
    await waitFor('reload', 10_000, () => relay.output().includes('configuration re-read'));
    const again = await submitMessage({ host: '127.0.0.1', port: relayPort, from: 'a@relay.metrics.test', to: 'c@metrics.test', subject: 'after reload' });
    assert.equal(again.kind, 'queued');
    await waitFor('second delivery at the MX', 20_000, () => mx.messages().length === 2);
    assert.equal(mx.messages()[1]?.secure, true);
    await waitFor('sent counter after the reload', 10_000, async () => {
      text = await (await fetch(`${base}/metrics`)).text();
      return metricValue(text, 'dane_relay_recipients_total{status="sent"}') === 2;
    });
    assert.equal(metricValue(text, 'dane_relay_tls_sessions_total{state="Verified",level="dane"}'), 2);
    assert.ok((metricValue(text, 'dane_relay_dns_queries_sent_total') ?? 0) >= queriesBefore, 'DNS counters kept across the reload');
    await waitFor('the second delivery in the new maillog', 10_000, async () => /to=<c@metrics\.test>.*status=sent/.test(await readFile(maillog, 'utf8').catch(() => '')));
    assert.doesNotMatch(await readFile(`${maillog}.1`, 'utf8'), /c@metrics\.test/, 'the delivery thread no longer writes to the renamed file');
    resolver.setValidating(false);
    await waitFor('/healthz to report not ready', 10_000, async () => (await fetch(`${base}/healthz`)).status === 503);
    const body = (await (await fetch(`${base}/healthz`)).json()) as { failures: Record<string, string> };
    assert.match(body.failures['dnssec'] ?? '', /not validated/);
    relay.child.kill('SIGTERM');
    assert.equal(await relay.exit, 0);
  });
});

test('serve with delivery.engine_thread: false: the engine runs in the main thread (loaded only then), delivers over Verified TLS, and again after SIGHUP', async () => {
  await withServe(['  engine_thread: false'], async ({ relay, mx, relayPort, metricsPort }) => {
    const verified = async (n: number): Promise<void> => waitFor(`${n} Verified session(s)`, 10_000, async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return metricValue(text, 'dane_relay_tls_sessions_total{state="Verified",level="dane"}') === n;
    });
    await waitFor('relay start', 20_000, () => relay.output().includes('daemon started'));
    assert.equal((await submitMessage({ host: '127.0.0.1', port: relayPort, from: 'a@relay.metrics.test', to: 'b@metrics.test', subject: 'no thread' })).kind, 'queued');
    await waitFor('delivery at the MX', 20_000, () => mx.messages().length === 1);
    await verified(1);
    relay.child.kill('SIGHUP');
    await waitFor('reload', 10_000, () => relay.output().includes('configuration re-read'));
    assert.equal((await submitMessage({ host: '127.0.0.1', port: relayPort, from: 'a@relay.metrics.test', to: 'c@metrics.test', subject: 'no thread, reloaded' })).kind, 'queued');
    await waitFor('second delivery at the MX', 20_000, () => mx.messages().length === 2);
    await verified(2);
    relay.child.kill('SIGTERM');
    assert.equal(await relay.exit, 0);
  });
});

test('C6: serve refuses to start with DANE configured behind a resolver that does not validate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dr-probe-'));
  const resolver = await startLabResolver({ zones: [], validating: false });
  const configFile = join(dir, 'relay.yaml');
  await writeFile(configFile, [`listen: ["127.0.0.1:${await freePort()}"]`, `spool: ${join(dir, 'spool')}`, 'dns:', `  resolvers: ["${resolver.address}"]`, ''].join('\n'));
  const relay = startServe(configFile);
  try {
    assert.equal(await relay.exit, 1);
    assert.match(relay.output(), /refusing to start because DANE is configured/);
    assert.doesNotMatch(relay.output(), /daemon started/);
  } finally {
    relay.child.kill('SIGKILL');
    await resolver.close();
    await rm(dir, { recursive: true, force: true });
  }
});
