import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { Scheduler } from '../../src/queue/scheduler.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { Deliverer, DeliveryJob } from '../../src/queue/deliverer.ts';
import type { Spool } from '../../src/queue/spool.ts';
import { DEFER, REJECT, SENT, scriptedDeliverer, settings, storeMessage, tempSpool, until } from './helpers.ts';

async function withScheduler(
  deliverer: Deliverer,
  body: (s: { scheduler: Scheduler; spool: Spool; clock: { t: number } }) => Promise<void>,
  overrides: Parameters<typeof settings>[0] = {},
): Promise<void> {
  const { spool, cleanup } = await tempSpool();
  const clock = { t: Date.UTC(2026, 0, 1) };
  const scheduler = new Scheduler({ spool, deliverer, logger: silentLogger(), settings: settings(overrides), now: () => clock.t });
  try {
    await body({ scheduler, spool, clock });
  } finally {
    await scheduler.stop(1000);
    await cleanup();
  }
}

describe('scheduler', () => {
  test('a message handed over by inbound during a scan is not forgotten by that scan', async () => {
    const d = scriptedDeliverer(() => SENT);
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const first = await storeMessage(spool, 'a@src.test', ['x@one.test'], { now: clock.t });
      let late = '';
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const move = spool.move.bind(spool);
      spool.move = async (...args: Parameters<Spool['move']>) => {
        if (args[0] === first) await gate; // the first activation is still busy when the late message arrives
        return move(...args);
      };
      const list = spool.list.bind(spool);
      spool.list = async (dir) => {
        const ids = await list(dir);
        if (dir === 'deferred' && late === '') {
          late = await storeMessage(spool, 'a@src.test', ['y@one.test'], { now: clock.t });
          scheduler.notify(late);
        }
        return ids;
      };
      await scheduler.start();
      release();
      await scheduler.idle();
      assert.deepEqual(d.calls.map((c) => c.job.queueId).sort(), [first, late].sort());
    });
  });

  test('recipients are grouped by domain: one deliver() per (message, domain)', async () => {
    const d = scriptedDeliverer(() => SENT);
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const id = await storeMessage(spool, 'a@src.test', ['x1@one.test', 'y@two.test', 'x2@ONE.test'], { now: clock.t });
      await scheduler.start();
      await scheduler.idle();
      const groups = d.calls.map((c) => `${c.job.domain}:${c.job.recipients.join(',')}`).sort();
      assert.deepEqual(groups, ['one.test:x1@one.test,x2@ONE.test', 'two.test:y@two.test']);
      assert.ok(d.calls.every((c) => c.job.queueId === id && c.job.attempt === 1 && c.body.includes('hello')));
      assert.deepEqual(await spool.list('deferred'), []);
      assert.deepEqual(await spool.list('active'), [], 'a delivered message is removed');
    });
  });

  test('per-recipient state is persisted: sent stays sent, deferred keeps reason and next attempt', async () => {
    const d = scriptedDeliverer((_job, rcpt) => (rcpt.startsWith('ok') ? SENT : DEFER));
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const id = await storeMessage(spool, 'a@src.test', ['ok@one.test', 'later@one.test'], { now: clock.t });
      await scheduler.start();
      await scheduler.idle();
      assert.deepEqual(await spool.list('deferred'), [id]);
      const read = await spool.readRecord('deferred', id);
      assert.equal(read.kind, 'ok');
      if (read.kind !== 'ok') return;
      const [ok, later] = read.record.recipients;
      assert.equal(ok?.status, 'sent');
      assert.equal(later?.status, 'deferred');
      assert.equal(later?.dsn, '4.4.1');
      assert.match(later?.diagnostic ?? '', /Connection refused/);
      assert.equal(later?.nextAttemptAt, clock.t + 300_000);
      assert.equal((await stat(spool.path('deferred', id))).mtimeMs, clock.t + 300_000, 'deferred file mtime is the next attempt time');
      // second pass: only the deferred recipient is tried again
      clock.t += 300_000;
      scheduler.wake();
      await until(() => d.calls.length === 2);
      await scheduler.idle();
      assert.deepEqual(d.calls[1]?.job.recipients, ['later@one.test']);
      assert.equal(d.calls[1]?.job.attempt, 2);
    });
  });

  test('backoff doubles from min_backoff after each pass and is capped at max_backoff', async () => {
    const d = scriptedDeliverer(() => DEFER);
    await withScheduler(
      d,
      async ({ scheduler, spool, clock }) => {
        const id = await storeMessage(spool, 'a@src.test', ['r@one.test'], { now: clock.t });
        await scheduler.start();
        const delays: number[] = [];
        for (let pass = 1; pass <= 6; pass++) {
          await until(() => d.calls.length === pass);
          await scheduler.idle();
          const read = await spool.readRecord('deferred', id);
          assert.equal(read.kind, 'ok');
          if (read.kind !== 'ok') return;
          delays.push(read.record.nextAttemptAt - clock.t);
          clock.t = read.record.nextAttemptAt;
          scheduler.wake();
        }
        assert.deepEqual(delays, [300_000, 600_000, 1_200_000, 2_400_000, 4_000_000, 4_000_000]);
      },
      { maxBackoffMs: 4_000_000 },
    );
  });

  test('global and per-destination concurrency limits are respected', async () => {
    let current = 0;
    let max = 0;
    const perDomain = new Map<string, number>();
    let maxPerDomain = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const d: Deliverer = {
      async deliver(job: DeliveryJob) {
        current++;
        max = Math.max(max, current);
        perDomain.set(job.domain, (perDomain.get(job.domain) ?? 0) + 1);
        maxPerDomain = Math.max(maxPerDomain, perDomain.get(job.domain) ?? 0);
        await gate;
        current--;
        perDomain.set(job.domain, (perDomain.get(job.domain) ?? 1) - 1);
        return job.recipients.map((recipient) => ({ recipient, ...SENT }));
      },
      async close() {},
    };
    await withScheduler(
      d,
      async ({ scheduler, spool, clock }) => {
        for (let i = 0; i < 6; i++) await storeMessage(spool, 'a@src.test', [`r${i}@same.test`], { now: clock.t });
        for (let i = 0; i < 4; i++) await storeMessage(spool, 'a@src.test', [`r${i}@d${i}.test`], { now: clock.t });
        await scheduler.start();
        await until(() => scheduler.stats().inFlight === 3 && scheduler.stats().queuedJobs > 0);
        // wake() runs dispatch synchronously and deliver() is entered synchronously from it:
        // a fourth delivery the limit allowed would have started before wake() returned.
        scheduler.wake();
        assert.equal(scheduler.stats().inFlight, 3);
        assert.ok(scheduler.stats().queuedJobs > 0, 'jobs were waiting and were not started');
        assert.equal(current, 3, 'global limit of 3 reached and not exceeded');
        open();
        await scheduler.idle();
        assert.equal(max, 3);
        assert.ok(maxPerDomain <= 2, `per-destination limit 2, saw ${maxPerDomain}`);
      },
      { concurrency: 3, destinationConcurrency: 2 },
    );
  });

  test('a 5xx bounce produces one RFC 3464 DSN from the null sender to the envelope sender', async () => {
    const d = scriptedDeliverer((job) => (job.sender === '' ? SENT : REJECT));
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const id = await storeMessage(spool, 'alice@src.test', ['nobody@one.test', 'ghost@one.test'], { now: clock.t });
      await scheduler.start();
      await until(() => d.calls.length === 2);
      await scheduler.idle();
      const dsn = d.calls[1];
      assert.ok(dsn);
      assert.equal(dsn.job.sender, '');
      assert.deepEqual(dsn.job.recipients, ['alice@src.test']);
      assert.match(dsn.body, /Content-Type: multipart\/report;\s+report-type=delivery-status/i);
      assert.match(dsn.body, /Content-Type: message\/delivery-status/);
      assert.match(dsn.body, /Reporting-MTA: dns; relay\.test/);
      assert.match(dsn.body, new RegExp(`X-Dane-Relay-Queue-ID: ${id}`));
      assert.match(dsn.body, /Final-Recipient: rfc822; nobody@one\.test\r\nOriginal-Recipient: rfc822;nobody@one\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 No such user/);
      assert.match(dsn.body, /Final-Recipient: rfc822; ghost@one\.test/);
      assert.match(dsn.body, /Content-Type: text\/rfc822-headers[\s\S]*Subject: test /);
      assert.doesNotMatch(dsn.body, /\r\n\r\nhello\r\n/, 'the original body is not returned');
      for (const dir of ['incoming', 'active', 'deferred'] as const) assert.deepEqual(await spool.list(dir), [], 'everything delivered and removed');
    });
  });

  test('a recipient still deferred after max_lifetime expires and is bounced with its 4.x.x status', async () => {
    const d = scriptedDeliverer((job) => (job.sender === '' ? SENT : DEFER));
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const id = await storeMessage(spool, 'alice@src.test', ['r@slow.test'], { now: clock.t });
      await scheduler.start();
      await scheduler.idle();
      assert.deepEqual(await spool.list('deferred'), [id]);
      clock.t += 5 * 86_400_000;
      scheduler.flush();
      await until(() => d.calls.length === 3);
      await scheduler.idle();
      const dsn = d.calls[2];
      assert.equal(dsn?.job.sender, '');
      assert.match(dsn?.body ?? '', /Action: failed\r\nStatus: 4\.4\.1/);
      assert.match(dsn?.body ?? '', /Diagnostic-Code: x-dane-relay; connect to mx\.test/);
      assert.deepEqual(await spool.list('deferred'), []);
    });
  });

  test('no bounce for a bounce: a failed null-sender message is dropped without a DSN', async () => {
    const d = scriptedDeliverer(() => REJECT);
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      await storeMessage(spool, '', ['alice@src.test'], { now: clock.t });
      await scheduler.start();
      await scheduler.idle();
      assert.equal(d.calls.length, 1);
      for (const dir of ['incoming', 'active', 'deferred'] as const) assert.deepEqual(await spool.list(dir), []);
    });
  });

  test('a null-sender message expires after bounce_lifetime, not max_lifetime, and is not bounced', async () => {
    const d = scriptedDeliverer(() => DEFER);
    await withScheduler(
      d,
      async ({ scheduler, spool, clock }) => {
        await storeMessage(spool, '', ['alice@src.test'], { now: clock.t });
        await scheduler.start();
        await scheduler.idle();
        clock.t += 86_400_000;
        scheduler.flush();
        await until(() => d.calls.length === 2);
        await scheduler.idle();
        assert.equal(d.calls.length, 2);
        assert.deepEqual(await spool.list('deferred'), []);
      },
      { bounceLifetimeMs: 86_400_000 },
    );
  });

  test('a throwing deliverer defers the group with 4.3.0 instead of crashing', async () => {
    const d: Deliverer = {
      deliver: async () => {
        throw new Error('boom');
      },
      close: async () => {},
    };
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const id = await storeMessage(spool, 'a@src.test', ['r@one.test'], { now: clock.t });
      await scheduler.start();
      await scheduler.idle();
      const read = await spool.readRecord('deferred', id);
      assert.equal(read.kind === 'ok' && read.record.recipients[0]?.dsn, '4.3.0');
    });
  });

  test('an unparsable queue file goes to corrupt/ and the rest of the queue is delivered', async () => {
    const d = scriptedDeliverer(() => SENT);
    await withScheduler(d, async ({ scheduler, spool, clock }) => {
      const good = await storeMessage(spool, 'a@src.test', ['r@one.test'], { now: clock.t });
      const bad = await storeMessage(spool, 'a@src.test', ['r@one.test'], { now: clock.t + 1 });
      await writeFile(spool.path('incoming', bad), '{"version": 1, "id": ');
      await scheduler.start();
      await scheduler.idle();
      assert.deepEqual(await spool.list('corrupt'), [bad]);
      assert.deepEqual(d.calls.map((c) => c.job.queueId), [good]);
    });
  });

  test('a message handed over with notify() is delivered without waiting for a scan', async () => {
    const d = scriptedDeliverer(() => SENT);
    await withScheduler(
      d,
      async ({ scheduler, spool, clock }) => {
        await scheduler.start();
        const id = await storeMessage(spool, 'a@src.test', ['r@one.test'], { now: clock.t });
        scheduler.notify(id);
        await until(() => d.calls.length === 1);
        await scheduler.idle();
      },
      { scanIntervalMs: 3_600_000 },
    );
  });

  test('a message committed into active/ and handed over as there is delivered without a rename, and removed from active/', async () => {
    const d = scriptedDeliverer(() => SENT);
    await withScheduler(
      d,
      async ({ scheduler, spool, clock }) => {
        await scheduler.start();
        const moves: string[] = [];
        const move = spool.move.bind(spool);
        spool.move = async (...args: Parameters<Spool['move']>) => {
          moves.push(`${args[1]}->${args[2]}`);
          return move(...args);
        };
        assert.equal(scheduler.admitsAtOnce(), true);
        const id = await storeMessage(spool, 'a@src.test', ['r@one.test'], { now: clock.t, into: 'active' });
        scheduler.notify(id, undefined, 'active');
        await until(() => d.calls.length === 1);
        await scheduler.idle();
        assert.deepEqual(moves, []);
        assert.deepEqual(await spool.list('active'), []);
        assert.deepEqual(await spool.list('incoming'), []);
      },
      { scanIntervalMs: 3_600_000 },
    );
  });

  test('admitsAtOnce(): not while the active set is full (maxActiveMessages), nor once stopping', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const d = scriptedDeliverer(() => SENT);
    const deliver = d.deliver.bind(d);
    d.deliver = async (job) => {
      await gate;
      return deliver(job);
    };
    const { spool, cleanup } = await tempSpool();
    const scheduler = new Scheduler({ spool, deliverer: d, logger: silentLogger(), settings: settings({ scanIntervalMs: 3_600_000 }), maxActiveMessages: 1 });
    try {
      await scheduler.start();
      assert.equal(scheduler.admitsAtOnce(), true);
      scheduler.notify(await storeMessage(spool, 'a@src.test', ['r@one.test']));
      await until(() => !scheduler.admitsAtOnce());
      release();
      await scheduler.idle();
      assert.equal(scheduler.admitsAtOnce(), true);
      await scheduler.stop(1000);
      assert.equal(scheduler.admitsAtOnce(), false);
    } finally {
      release();
      await scheduler.stop(1000);
      await cleanup();
    }
  });

  test('the flush trigger file makes deferred messages due now', async () => {
    let fail = true;
    const d = scriptedDeliverer(() => (fail ? DEFER : SENT));
    const { spool, cleanup } = await tempSpool();
    const scheduler = new Scheduler({ spool, deliverer: d, logger: silentLogger(), settings: settings(), flushPollMs: 20 });
    try {
      await storeMessage(spool, 'a@src.test', ['r@one.test']);
      await scheduler.start();
      await scheduler.idle();
      assert.equal((await spool.list('deferred')).length, 1);
      fail = false;
      await writeFile(spool.flushTrigger, '');
      await until(() => d.calls.length === 2);
      await scheduler.idle();
      assert.deepEqual(await spool.list('deferred'), []);
    } finally {
      await scheduler.stop(1000);
      await cleanup();
    }
  });
});
