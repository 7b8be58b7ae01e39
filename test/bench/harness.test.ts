/**
 * Tests of the benchmark harness itself (no relay): figures, /proc parsing,
 * message building, the spool filler against the queue's own parser, the
 * sink (plaintext and STARTTLS) fed by the load generator and by nodemailer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { Spool } from '../../src/queue/spool.ts';
import { buildMessage, runLoad } from './load-gen.ts';
import { cpuOfTree, parseStat, parseSteal, pssOfTree } from './proc-stats.ts';
import { median, percentile, ratios, runVerified, summarise, workloadName, type RunFigures } from './report.ts';
import { computeFigures, type RunOptions } from './run.ts';
import { mergeConfig, serviceEnvironment, serviceNodeOptions } from './relay-process.ts';
import { smtpSourceArgs } from './smtp-source.ts';
import { fillSpool } from './scaling.ts';
import { startSink, type Arrival } from './sink.ts';
import { benchZones, createSinkIdentity } from './world.ts';

function fig(over: Partial<RunFigures>): RunFigures {
  return {
    mta: 'dane-relay', client: 'own', reuse: true, run: 1, messages: 10, size: 2000, sessions: 2, domains: 1, accepted: 10, delivered: 10, rejected: 0, timedOut: false,
    acceptedPerSec: 100, deliveredPerSec: 100, cpuSeconds: 1, cpuSecondsPer1000: 100, greetingP50Ms: 0.5, greetingP99Ms: 0.7, acceptP50Ms: 1, acceptP99Ms: 2, timePerMessageMs: 5, e2eP50Ms: 3, e2eP99Ms: 4,
    tlsHandshakesPerMsg: 0.1, tlsResumed: 0, dnsQueriesPerMsg: 0.1, peakRssBytes: 1, plaintextArrivals: 0, tlsSessionsByState: { Verified: 1 },
    harnessCpuSeconds: { sink: 0, bench: 0 }, stolenCpuShare: 0, errors: [], ...over,
  };
}

describe('report figures', () => {
  test('percentile is nearest-rank; median of even count averages', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });

  const verifiedCases: Array<[string, Partial<RunFigures>, boolean]> = [
    ['all sessions Verified, no plaintext', {}, true],
    ['one Trusted session', { tlsSessionsByState: { Verified: 3, Trusted: 1 } }, false],
    ['a plaintext arrival', { plaintextArrivals: 1 }, false],
    ['no TLS session logged at all', { tlsSessionsByState: {} }, false],
  ];
  for (const [name, over, expected] of verifiedCases) {
    test(`runVerified: ${name} -> ${expected}`, () => assert.equal(runVerified(fig(over)), expected));
  }

  test('summary takes median and min–max; ratios are relay over postfix', () => {
    const relay = summarise('dane-relay', [fig({ deliveredPerSec: 300 }), fig({ deliveredPerSec: 500 }), fig({ deliveredPerSec: 400, cpuSecondsPer1000: 50 })]);
    assert.deepEqual(relay.deliveredPerSec, { median: 400, min: 300, max: 500 });
    assert.equal(relay.allDelivered, true);
    const postfix = summarise('postfix', [fig({ mta: 'postfix', deliveredPerSec: 200, cpuSecondsPer1000: 200 })]);
    const r = ratios(relay, postfix);
    assert.equal(r.deliveredPerSec, 2);
    assert.equal(r.cpuPerMessage, 0.5);
    assert.equal(summarise('dane-relay', [fig({ delivered: 9 })]).allDelivered, false);
  });
});

describe('clients and workloads', () => {
  const opts: RunOptions = { run: 1, messages: 3, size: 2000, sessions: 2, domains: 1, timeoutMs: 1000, warmup: 0, client: 'smtp-source', reuse: false };
  const sink = { handshakes: 1, resumed: 0, plaintextMessages: 0 };

  test('smtp-source: one connection per message unless reuse (-d); sessions, count, size, envelope passed on', () => {
    const base = { host: '127.0.0.1', port: 2525, sessions: 20, messages: 5000, size: 2000, sender: 's@a.test', recipient: 'r@b.test', timeoutMs: 1 };
    assert.deepEqual(smtpSourceArgs({ ...base, reuse: false }), ['-s', '20', '-m', '5000', '-l', '2000', '-f', 's@a.test', '-t', 'r@b.test', '-M', 'loadgen.bench.test', '127.0.0.1:2525']);
    assert.ok(smtpSourceArgs({ ...base, reuse: true }).includes('-d'));
  });

  test('workload names say the client and whether connections carry one message or many', () => {
    assert.equal(workloadName('smtp-source', false, 20), 'smtp-source -s 20 (one message per connection)');
    assert.match(workloadName('smtp-source', true, 20), /-d \(many messages per connection\)/);
    assert.match(workloadName('own', false, 20), /one message per connection/);
    assert.match(workloadName('own', false, 20, 400), /paced at 400 msg\/s offered/);
  });

  test('figures without per-message timings (smtp-source): every arrival counts, rates from the client\'s count and duration', () => {
    const load = { startedAt: 0, endedAt: 1000, accepted: [], acceptedCount: 3, greetingMs: [], rejected: 0, errors: [], timedOut: false };
    const arrivals = [1, 2, 3].map((i) => ({ id: '<same@vm>', t: 1000 + i * 500, tls: true, size: 2000 }));
    const f = computeFigures('dane-relay', opts, load, arrivals, 0.3, 0, sink);
    assert.equal(f.delivered, 3);
    assert.equal(f.timedOut, false);
    assert.equal(f.acceptedPerSec, 3);
    assert.equal(f.deliveredPerSec, 3 / 2.5);
    assert.equal(f.timePerMessageMs, (1000 * 2) / 3);
    assert.ok(Number.isNaN(f.acceptP99Ms) && Number.isNaN(f.greetingP99Ms));
    assert.equal(computeFigures('dane-relay', opts, load, arrivals.slice(0, 2), 0.3, 0, sink).timedOut, true, 'a missing arrival is a timed-out run');
  });

  test('figures with timings (own client): arrivals matched by Message-ID, greeting and accept percentiles', () => {
    const accepted = [1, 2].map((i) => ({ id: `<m${i}@bench.test>`, dotAt: i * 10, acceptedAt: i * 10 + i }));
    const load = { startedAt: 0, endedAt: 100, accepted, acceptedCount: 2, greetingMs: [0.5, 0.25], rejected: 0, errors: [], timedOut: false };
    const arrivals = [{ id: '<m1@bench.test>', t: 50, tls: true, size: 1 }, { id: '<other@x>', t: 60, tls: true, size: 1 }, { id: '<m2@bench.test>', t: 70, tls: true, size: 1 }];
    const f = computeFigures('dane-relay', { ...opts, client: 'own' }, load, arrivals, 0.3, 0, sink);
    assert.equal(f.delivered, 2);
    assert.deepEqual([f.greetingP50Ms, f.greetingP99Ms, f.acceptP50Ms, f.acceptP99Ms], [0.25, 0.5, 1, 2]);
    assert.deepEqual([f.e2eP50Ms, f.e2eP99Ms], [39, 48]);
  });
});

describe('relay process', () => {
  test('the relay is started with the node options of the shipped unit\'s ExecStart', () => {
    assert.deepEqual(serviceNodeOptions(), ['--max-semi-space-size=4', '--heap-growing-percent=50', '--v8-pool-size=2', '--no-allocation-site-pretenuring']);
    assert.deepEqual(serviceNodeOptions('ExecStart=/usr/bin/node /opt/x/bin/dane-relay.js serve --config /etc/x.yaml\n'), []);
    assert.throws(() => serviceNodeOptions('ExecStart=/bin/true\n'), /no ExecStart/);
  });

  test('the relay runs in the environment of the shipped unit\'s Environment= lines', () => {
    // %b stays unexpanded outside systemd: the relay ignores it and reads the kernel's boot id (boot-id.ts).
    assert.deepEqual(serviceEnvironment(), { UV_THREADPOOL_SIZE: '2', DANE_RELAY_BOOT_ID: '%b' });
    assert.deepEqual(serviceEnvironment('Environment=A=1 "B=two words"\n# Environment=C=3\nEnvironment="D=" E=x=y\n'), { A: '1', B: 'two words', D: '', E: 'x=y' });
    assert.deepEqual(serviceEnvironment('ExecStart=/usr/bin/node x.js serve\n'), {});
  });

  test('BENCH_RELAY_CONFIG is merged key by key over the bench configuration', () => {
    const base = { delivery: { port: 25, inet_protocols: 'ipv4' }, listen: ['127.0.0.1:2525'] };
    assert.deepEqual(mergeConfig(base, { delivery: { engine_thread: false }, listen: ['127.0.0.1:1'] }), { delivery: { port: 25, inet_protocols: 'ipv4', engine_thread: false }, listen: ['127.0.0.1:1'] });
    assert.deepEqual(base.delivery, { port: 25, inet_protocols: 'ipv4' });
  });
});

describe('/proc reader', () => {
  test('parseStat reads ppid and CPU ticks even with spaces and parens in the name', () => {
    const fields = ['S', '42', ...Array.from({ length: 9 }, () => '0'), '11', '22', '33', '44', '20', '0'];
    const st = parseStat(`1234 (a (weird) name) ${fields.join(' ')}`);
    assert.deepEqual(st, { ppid: 42, utime: 11, stime: 22, cutime: 33, cstime: 44 });
  });

  test('parseSteal reads the steal column of the cpu line of /proc/stat (NaN when the kernel has none)', () => {
    const text = 'cpu  5337041 976 1672263 5777791 85738 0 234390 278888 0 0\ncpu0 2702530 502 807951 2925575 43379 0 75649 133568 0 0\n';
    assert.equal(parseSteal(text), 278888);
    assert.ok(Number.isNaN(parseSteal('cpu  1 2 3 4 5 6 7\n')));
    assert.ok(Number.isNaN(parseSteal('intr 1 2 3\n')));
  });

  test('this process has CPU time and a PSS', () => {
    assert.ok(cpuOfTree(process.pid) > 0);
    assert.ok(pssOfTree(process.pid) > 0);
  });
});

describe('messages and spool', () => {
  test('buildMessage: requested size, CRLF lines, no line starts with a dot', () => {
    for (const size of [300, 2000, 10_001]) {
      const m = buildMessage({ id: '<x.1@bench.test>', from: 'a@b.test', to: 'c@d.test', size });
      assert.ok(Math.abs(m.length - size) <= 1, `${m.length} vs ${size}`);
      assert.ok(m.endsWith('\r\n'));
      assert.equal(/(^|\r\n)\./.test(m), false);
      assert.equal(m.replace(/\r\n/g, '').includes('\n'), false);
    }
  });

  test('fillSpool writes deferred queue files the spool parses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-spool-'));
    try {
      await fillSpool(dir, 20, 500, 3);
      const ids = await readdir(join(dir, 'deferred'));
      assert.equal(ids.length, 20);
      const spool = await Spool.open(dir);
      for (const id of ids) {
        const parsed = await spool.readRecord('deferred', id);
        assert.equal(parsed.kind, 'ok', JSON.stringify(parsed));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sink and load generator', () => {
  test('zones: one signed zone per domain with MX, A and TLSA 3 1 1 at the sink port', () => {
    const zones = benchZones(2, '127.0.0.2', 2525, Buffer.alloc(32, 1));
    assert.deepEqual(zones.map((z) => [z.origin, z.signed]), [['d0.bench.test', true], ['d1.bench.test', true]]);
    const tlsa = zones[1]?.records.find((r) => r.type === 'TLSA');
    assert.equal(tlsa?.name, '_2525._tcp.mx.d1.bench.test');
    assert.deepEqual({ ...(tlsa?.data as object), certificate: undefined }, { usage: 3, selector: 1, matchingType: 1, certificate: undefined });
  });

  test('pipelined plaintext load: every message accepted and reported by Message-ID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-sink-'));
    const id = await createSinkIdentity(dir);
    const arrivals: Arrival[] = [];
    const sink = await startSink({ host: '127.0.0.1', port: 0, certPem: id.certPem, keyPem: id.keyPem, onArrival: (a) => arrivals.push(a) });
    try {
      const r = await runLoad({ host: '127.0.0.1', port: sink.port, sessions: 3, messages: 30, size: 1500, tag: 't', sender: 's@b.test', recipientFor: (i) => `u${i}@d.test`, timeoutMs: 20_000 });
      assert.equal(r.accepted.length, 30);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(new Set(arrivals.map((a) => a.id)), new Set(r.accepted.map((m) => m.id)));
      assert.equal(sink.stats().plaintextMessages, 30);
    } finally {
      await sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('STARTTLS: nodemailer client with requireTLS delivers; the sink counts the handshake and a TLS arrival', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-sink-'));
    const id = await createSinkIdentity(dir);
    const arrivals: Arrival[] = [];
    const sink = await startSink({ host: '127.0.0.1', port: 0, certPem: id.certPem, keyPem: id.keyPem, onArrival: (a) => arrivals.push(a) });
    const conn = new SMTPConnection({ host: '127.0.0.1', port: sink.port, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      await new Promise<void>((resolve, reject) => {
        conn.once('error', reject);
        conn.connect(() => resolve());
      });
      for (const n of [1, 2]) {
        const body = buildMessage({ id: `<tls.${n}@bench.test>`, from: 'a@b.test', to: 'c@d.test', size: 800 });
        await new Promise<void>((resolve, reject) => conn.send({ from: 'a@b.test', to: ['c@d.test'] }, body, (err) => (err ? reject(err) : resolve())));
      }
      assert.deepEqual(arrivals.map((a) => [a.id, a.tls]), [['<tls.1@bench.test>', true], ['<tls.2@bench.test>', true]]);
      assert.equal(sink.stats().handshakes, 1);
      assert.equal(sink.stats().plaintextMessages, 0);
    } finally {
      conn.close();
      await sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
