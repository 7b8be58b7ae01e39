import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { registerReport } from '../../src/cli/report.ts';
import { runCli } from '../tools/cli-harness.ts';
import { EVENTS, EXPECTED, syntheticLog, T0 } from '../tools/report/fixture.ts';

const report = (argv: string[], stdin?: Readable) => runCli(registerReport, ['report', ...argv], stdin);

describe('dane-relay report (CLI)', () => {
  let dir = '';
  let log = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
    log = join(dir, 'relay.log');
    await writeFile(log, syntheticLog());
    await writeFile(join(dir, 'relay.log.1.gz'), gzipSync(syntheticLog()));
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('--json on a file gives the exact expected counts', async () => {
    const r = await report([log, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.lines, EXPECTED.lines);
    assert.deepEqual(d.recipients, EXPECTED.recipients);
    assert.deepEqual(d.tls.sessions, EXPECTED.sessions);
    assert.deepEqual(d.tls.deliveries, EXPECTED.deliveries);
    assert.deepEqual(d.refusals.map((x: { cause: string; hostsSkipped: number; deferred: number; bounced: number }) => [x.cause, x.hostsSkipped, x.deferred, x.bounced]), EXPECTED.refusals);
  });

  test('gzip input and several files are summed', async () => {
    const r = await report([log, join(dir, 'relay.log.1.gz'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.lines, 2 * EXPECTED.lines);
    assert.equal(d.recipients.sent, 2 * EXPECTED.recipients.sent);
  });

  test("stdin via '-' (plain and gzip)", async () => {
    const plain = await report(['-', '--json'], Readable.from([Buffer.from(syntheticLog())]));
    assert.equal(JSON.parse(plain.stdout).events, EXPECTED.events);
    const gz = gzipSync(syntheticLog());
    const zipped = await report(['--json'], Readable.from([gz.subarray(0, 10), gz.subarray(10)]));
    assert.equal(JSON.parse(zipped.stdout).events, EXPECTED.events);
  });

  test('--since/--until (ISO) and --domain filter', async () => {
    const since = new Date(T0 + 10 * EXPECTED.minute).toISOString();
    const until = new Date(T0 + 20 * EXPECTED.minute).toISOString();
    const w = JSON.parse((await report([log, '--json', '--since', since, '--until', until])).stdout);
    assert.equal(w.events, 10);
    assert.equal(w.filteredOut, EXPECTED.events - 10);
    const dom = JSON.parse((await report([log, '--json', '--domain', 'fail.test'])).stdout);
    assert.deepEqual(dom.refusals.map((x: { cause: string }) => x.cause), ['tlsa_lookup_failure']);
  });

  test('text output for a person', async () => {
    const r = await report([log]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Time range: 2026-11-01T00:00:00.000Z \.\. 2026-11-01T00:24:00.000Z/);
    assert.match(r.stdout, /sent\s+3\s+4/);
    assert.match(r.stdout, /tlsa_mismatch: examples\n.*mx1\.broken\.test 4\.7\.5 Server certificate not verified/);
  });

  test('--html writes a self-contained page with the tables and an <svg> chart', async () => {
    const file = join(dir, 'report.html');
    const r = await report([log, '--html', file]);
    assert.equal(r.code, 0, r.stderr);
    const html = await readFile(file, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<style>/);
    assert.match(html, /<svg[\s\S]*<\/svg>/);
    for (const caption of ['Deliveries by status', 'Deliveries by TLS state (recipients sent)', 'TLS sessions established, by state', 'Top recipient domains', 'Refusals to deliver by cause']) {
      assert.ok(html.includes(`<caption>${caption}</caption>`), caption);
    }
    assert.doesNotMatch(html, /<script|<link|src=|url\(|@import|https?:/i);
  });

  test('exit 2: missing file, bad --since, unknown option, unwritable --html', async () => {
    assert.equal((await report([join(dir, 'nope.log')])).code, 2);
    const bad = await report([log, '--since', 'yesterday-ish']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --since/);
    assert.equal((await report([log, '--frobnicate'])).code, 2);
    assert.equal((await report([log, '--html', join(dir, 'no', 'such', 'dir.html')])).code, 2);
    assert.equal((await report(['--help'])).code, 0);
  });

  test('a 1,000,000-line log is summarised with exact counts (lines/s and RSS as diagnostics)', async (t) => {
    const big = join(dir, 'big.log');
    const reps = 1_000_000 / EVENTS.length;
    const out = createWriteStream(big);
    for (let rep = 0; rep < reps; rep++) {
      let chunk = '';
      EVENTS.forEach((e, i) => {
        const qid = typeof e['qid'] === 'string' ? `${e['qid']}${rep}` : undefined;
        chunk += JSON.stringify({ level: 30, time: T0 + (rep * EVENTS.length + i) * 1000, ...e, ...(qid ? { qid } : {}) }) + '\n';
      });
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    let peak = process.memoryUsage().rss;
    const rssBefore = peak;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
    const start = process.hrtime.bigint();
    const r = await report([big, '--json']).finally(() => clearInterval(timer));
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    t.diagnostic(`1,000,000 lines in ${secs.toFixed(2)} s = ${Math.round(1_000_000 / secs)} lines/s; RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.lines, 1_000_000);
    assert.equal(d.skipped, 0);
    assert.equal(d.recipients.sent, EXPECTED.recipients.sent * reps);
    assert.equal(d.messages.byStatus.sent, EXPECTED.messages.sent * reps);
    assert.equal(d.messages.approximate, false);
    assert.ok(d.series.buckets.length <= 120);
  });
});
