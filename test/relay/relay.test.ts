import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { startRelay, type RelayHandle } from '../../src/relay.ts';
import type { Deliverer, DeliveryJob } from '../../src/queue/deliverer.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { DEFER, SENT, scriptedDeliverer, storeMessage, until } from '../queue/helpers.ts';
import { Spool } from '../../src/queue/spool.ts';
import { freePort } from './child.ts';

async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-relay-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function relayConfig(spool: string, extra: Record<string, unknown> = {}) {
  return parseConfig({ listen: ['127.0.0.1:0'], spool, myhostname: 'relay.test', queue: { scan_interval: '1h' }, log: { level: 'silent' }, ...extra });
}

async function submit(handle: RelayHandle, n: number, opts: { localAddress?: string } = {}): Promise<string[]> {
  const c = await RawSmtp.connect(handle.addresses[0]?.port ?? 0, opts);
  const ids: string[] = [];
  try {
    await c.greeting;
    for (let i = 0; i < n; i++) {
      const reply = await c.send('alice@src.test', [`bob${i}@dst.test`], simpleMessage(`m${i}`));
      const id = /queued as ([0-9A-F]+)/.exec(reply)?.[1];
      if (!id) throw new Error(reply);
      ids.push(id);
    }
  } finally {
    c.close();
  }
  return ids;
}

describe('relay assembly', () => {
  test('a message accepted over SMTP is handed to the deliverer at once, not at the next scan', async () => {
    const t = await tempDir();
    const d = scriptedDeliverer(() => SENT);
    const handle = await startRelay(relayConfig(join(t.dir, 'spool')), { deliverer: d, logger: silentLogger() });
    try {
      const [id] = await submit(handle, 1);
      await until(() => d.calls.length === 1);
      assert.equal(d.calls[0]?.job.queueId, id);
      assert.equal(d.calls[0]?.job.domain, 'dst.test');
      assert.match(d.calls[0]?.body ?? '', /^Received: from client\.test/);
      await handle.queue.scheduler.idle();
      assert.deepEqual(await handle.queue.spool.list('active'), []);
    } finally {
      await handle.stop({ graceMs: 1000 });
      await t.cleanup();
    }
  });

  test('a message accepted by the running relay is committed straight into active/: no incoming -> active rename', async () => {
    const t = await tempDir();
    const seenIn: Array<string | undefined> = [];
    let handle: RelayHandle | undefined;
    const d = scriptedDeliverer(() => SENT);
    const deliver = d.deliver.bind(d);
    d.deliver = async (job) => {
      seenIn.push(await handle?.queue.spool.locate(job.queueId));
      return deliver(job);
    };
    handle = await startRelay(relayConfig(join(t.dir, 'spool')), { deliverer: d, logger: silentLogger() });
    const moves: string[] = [];
    const spool = handle.queue.spool;
    const move = spool.move.bind(spool);
    spool.move = async (...args: Parameters<typeof spool.move>) => {
      moves.push(`${args[1]}->${args[2]}`);
      return move(...args);
    };
    try {
      await submit(handle, 2);
      await until(() => d.calls.length === 2);
      await handle.queue.scheduler.idle();
      assert.deepEqual(seenIn, ['active', 'active']);
      assert.deepEqual(moves, []);
      assert.deepEqual(await spool.list('active'), []);
    } finally {
      await handle.stop({ graceMs: 1000 });
      await t.cleanup();
    }
  });

  test('restart: messages queued before a restart are delivered after it', async () => {
    const t = await tempDir();
    const spool = join(t.dir, 'spool');
    const first = await startRelay(relayConfig(spool), { deliverer: scriptedDeliverer(() => DEFER), logger: silentLogger() });
    let ids: string[];
    try {
      ids = await submit(first, 3);
      await until(() => first.queue.scheduler.stats().active === 0 && first.queue.scheduler.stats().waiting === 3);
    } finally {
      await first.stop({ graceMs: 1000 });
    }
    assert.deepEqual((await first.queue.spool.list('deferred')).sort(), [...ids].sort());
    const d = scriptedDeliverer(() => SENT);
    const second = await startRelay(relayConfig(spool), { deliverer: d, logger: silentLogger() });
    try {
      second.flush();
      await until(() => d.calls.length === 3);
      await second.queue.scheduler.idle();
      assert.deepEqual(d.calls.map((c) => c.job.queueId).sort(), [...ids].sort());
      assert.ok(d.calls.every((c) => c.job.attempt === 2), 'the recipient state survived the restart');
      assert.deepEqual(await second.queue.spool.list('deferred'), []);
    } finally {
      await second.stop({ graceMs: 1000 });
      await t.cleanup();
    }
  });

  test('start: new mail is accepted and delivered while the torn-file check reads the backlog; the backlog is delivered after it, without the torn file', async () => {
    const t = await tempDir();
    const spoolDir = join(t.dir, 'spool');
    const before = await Spool.open(spoolDir);
    const whole = await storeMessage(before, 'a@src.test', ['old@dst.test']);
    const torn = await storeMessage(before, 'a@src.test', ['old@dst.test'], { body: `Subject: torn\r\n\r\n${'x'.repeat(9000)}\r\n` });
    const bytes = await readFile(before.path('incoming', torn));
    bytes.fill(0, 4096, 8192);
    await writeFile(before.path('incoming', torn), bytes);
    // The check waits for the test: what the relay does meanwhile is then not a matter of timing.
    let releaseCheck!: () => void;
    const checkMayRun = new Promise<void>((r) => (releaseCheck = r));
    let checking = false;
    const check = Spool.prototype.setAsideTorn;
    Spool.prototype.setAsideTorn = async function (this: Spool, ...args: Parameters<typeof check>) {
      checking = true;
      await checkMayRun;
      return check.apply(this, args);
    };
    const d = scriptedDeliverer(() => SENT);
    const port = await freePort();
    const starting = startRelay(relayConfig(spoolDir, { listen: [`127.0.0.1:${port}`] }), { deliverer: d, logger: silentLogger() });
    let handle: RelayHandle | undefined;
    try {
      await until(() => checking);
      const c = await RawSmtp.connect(port);
      let fresh: string | undefined;
      try {
        await c.greeting;
        fresh = /queued as ([0-9A-F]+)/.exec(await c.send('alice@src.test', ['new@dst.test'], simpleMessage('new')))?.[1];
      } finally {
        c.close();
      }
      await until(() => d.calls.length === 1);
      assert.deepEqual(d.calls.map((x) => x.job.queueId), [fresh], 'only the new message, while the check runs');
      releaseCheck();
      handle = await starting;
      await until(() => d.calls.length === 2);
      await handle.queue.scheduler.idle();
      assert.deepEqual(d.calls.map((x) => x.job.queueId), [fresh, whole]);
      assert.deepEqual(await handle.queue.spool.list('corrupt'), [torn]);
    } finally {
      Spool.prototype.setAsideTorn = check;
      releaseCheck();
      handle ??= await starting.catch(() => undefined);
      await handle?.stop({ graceMs: 1000 });
      await t.cleanup();
    }
  });

  test('SIGTERM semantics: stop() lets an in-flight delivery finish within the grace time', async () => {
    const t = await tempDir();
    let release!: () => void;
    const started = new Promise<void>((r) => (release = r));
    const d: Deliverer & { closed: boolean } = {
      closed: false,
      async deliver(job: DeliveryJob) {
        release();
        await new Promise((r) => setTimeout(r, 200));
        return job.recipients.map((recipient) => ({ recipient, ...SENT }));
      },
      async close() {
        this.closed = true;
      },
    };
    const handle = await startRelay(relayConfig(join(t.dir, 'spool')), { deliverer: d, logger: silentLogger() });
    try {
      await submit(handle, 1);
      await started;
      await handle.stop({ graceMs: 5000 });
      assert.deepEqual(await handle.queue.spool.list('active'), [], 'the delivery finished and was recorded');
      assert.deepEqual(await handle.queue.spool.list('incoming'), []);
      assert.equal(d.closed, true, 'the deliverer is closed on stop');
      await assert.rejects(RawSmtp.connect(handle.addresses[0]?.port ?? 0), 'no longer accepting');
    } finally {
      await t.cleanup();
    }
  });

  test('a delivery that outlives the grace time stays queued on disk and is delivered after a restart', async () => {
    const t = await tempDir();
    const spool = join(t.dir, 'spool');
    const hang: Deliverer = { deliver: () => new Promise(() => undefined), close: async () => {} };
    const first = await startRelay(relayConfig(spool), { deliverer: hang, logger: silentLogger() });
    const [id] = await submit(first, 1);
    await until(() => first.queue.scheduler.stats().inFlight === 1);
    await first.stop({ graceMs: 50 });
    assert.deepEqual(await first.queue.spool.list('active'), [id]);
    const d = scriptedDeliverer(() => SENT);
    const second = await startRelay(relayConfig(spool), { deliverer: d, logger: silentLogger() });
    try {
      await until(() => d.calls.length === 1);
      assert.equal(d.calls[0]?.job.queueId, id);
    } finally {
      await second.stop({ graceMs: 1000 });
      await t.cleanup();
    }
  });

  test('nothing half-starts: a listen failure rejects, closes what started and releases the spool lock', async () => {
    const t = await tempDir();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busyPort = (blocker.address() as { port: number }).port;
    const spool = join(t.dir, 'spool');
    try {
      await assert.rejects(startRelay(relayConfig(spool, { listen: ['127.0.0.1:0', `127.0.0.1:${busyPort}`] }), { deliverer: scriptedDeliverer(() => SENT), logger: silentLogger() }), /EADDRINUSE/);
      await assert.rejects(stat(join(spool, 'pid')), 'lock released');
      const running = await startRelay(relayConfig(spool), { deliverer: scriptedDeliverer(() => SENT), logger: silentLogger() });
      try {
        assert.equal((await submit(running, 1)).length, 1, 'the spool is usable again');
      } finally {
        await running.stop({ graceMs: 1000 });
      }
    } finally {
      blocker.close();
      await t.cleanup();
    }
  });

  test('reload applies a new mynetworks to new sessions', async () => {
    const t = await tempDir();
    const spool = join(t.dir, 'spool');
    const handle = await startRelay(relayConfig(spool, { mynetworks: ['127.0.0.1/32'] }), { deliverer: scriptedDeliverer(() => SENT), logger: silentLogger() });
    try {
      await assert.rejects(submit(handle, 1, { localAddress: '127.0.0.2' }), /554 5\.7\.1 Relay access denied/);
      handle.reload(relayConfig(spool, { mynetworks: ['127.0.0.0/8'] }));
      assert.equal((await submit(handle, 1, { localAddress: '127.0.0.2' })).length, 1);
    } finally {
      await handle.stop({ graceMs: 1000 });
      await t.cleanup();
    }
  });
});
