/**
 * Regression tests for the inbound crashes of the fault-injection run (issue
 * "Never crash, never hang", items 1 and 2): a client that hangs up, resets
 * or goes silent in the middle of DATA used to leave an unhandled rejection
 * ("Connection closed before the message was received in full", ECONNECTION)
 * that killed the daemon. Each case: the process survives, nothing is queued,
 * no half-written file is left, and the next client is served.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Spool } from '../../src/queue/spool.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { withInbound } from './helpers.ts';

const escaped: unknown[] = [];
const onEscape = (err: unknown): void => void escaped.push(err);
before(() => {
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
after(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
});

async function intoData(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  await c.greeting;
  await c.cmd('EHLO client.test');
  assert.match(await c.cmd('MAIL FROM:<a@src.test>'), /^250 /);
  assert.match(await c.cmd('RCPT TO:<b@dst.test>'), /^250 /);
  assert.match(await c.cmd('DATA'), /^354 /);
  c.write('Subject: cut\r\n\r\nline one\r\n');
  return c;
}

/** Polls until the spool's tmp/ is empty (the aborted file is removed asynchronously), bounded. */
async function noHalfWrittenFile(spool: Spool): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const left = await readdir(join(spool.root, 'tmp'));
    if (left.length === 0) return;
    if (Date.now() > deadline) assert.deepEqual(left, [], 'no half-written queue file is left behind');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stillServes(port: number, queued: string[]): Promise<void> {
  const c = await RawSmtp.connect(port);
  try {
    await c.greeting;
    assert.match(await c.send('a@src.test', ['b@dst.test'], simpleMessage('after')), /^250 2\.0\.0 Ok: queued as /);
    assert.equal(queued.length, 1, 'only the complete message is queued');
  } finally {
    c.close();
  }
}

describe('a client that goes away during DATA', () => {
  test('closing the socket after two body lines: the daemon survives, nothing is queued', async () => {
    await withInbound({}, async ({ port, spool, queued }) => {
      const c = await intoData(port);
      c.write('line two\r\n');
      c.close();
      await c.waitClosed();
      await noHalfWrittenFile(spool);
      assert.deepEqual(await spool.list('incoming'), []);
      await stillServes(port, queued);
      assert.deepEqual(escaped, []);
    });
  });

  test('a reset (RST) in the middle of DATA: the daemon survives', async () => {
    await withInbound({}, async ({ port, spool, queued }) => {
      const c = await intoData(port);
      (c as unknown as { socket: import('node:net').Socket }).socket.resetAndDestroy();
      await c.waitClosed();
      await noHalfWrittenFile(spool);
      await stillServes(port, queued);
      assert.deepEqual(escaped, []);
    });
  });

  test('a client silent in DATA until idle_timeout: 421, the daemon survives, nothing is queued', async () => {
    await withInbound({ inbound: { idle_timeout: 0.3 } }, async ({ port, spool, queued }) => {
      const c = await intoData(port);
      assert.match(await c.reply(5000), /^421 /);
      await c.waitClosed();
      await noHalfWrittenFile(spool);
      assert.deepEqual(await spool.list('incoming'), []);
      await stillServes(port, queued);
      assert.deepEqual(escaped, []);
    });
  });

  test('fifty clients hanging up at random points of DATA, concurrently: every later message still queued', async () => {
    await withInbound({}, async ({ port, spool, queued }) => {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const c = await intoData(port);
          c.write('x'.repeat(i * 97) + '\r\n');
          c.close();
          await c.waitClosed();
        }),
      );
      await noHalfWrittenFile(spool);
      await stillServes(port, queued);
      assert.deepEqual(escaped, []);
    });
  });
});
