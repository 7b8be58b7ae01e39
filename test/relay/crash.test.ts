/**
 * Durability under SIGKILL: a relay child process is killed at random
 * moments while several sessions send 300 messages; after the last restart
 * every message that got a 250 reply must be delivered (duplicates are
 * tolerated, loss is not). Bounded: 300 messages, 4 kills, ~60 s at most.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { freePort, startChild, type RelayChild } from './child.ts';

const TOTAL = 300;
const SESSIONS = 6;
const KILLS = 4;
const DEADLINE_MS = 45_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One sending session: sends its share, reconnecting after failures; returns the acknowledged ids. */
async function sender(port: number, share: number, session: number, deadline: number): Promise<string[]> {
  const acked: string[] = [];
  let sent = 0;
  while (sent < share && Date.now() < deadline) {
    let c: RawSmtp | undefined;
    try {
      c = await RawSmtp.connect(port);
      if (!(await c.greeting).startsWith('220')) throw new Error('no greeting');
      while (sent < share) {
        const reply = await c.send('sender@src.test', [`rcpt${session}@dst${session % 3}.test`], simpleMessage(`s${session} m${sent}`));
        const id = /^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/.exec(reply)?.[1];
        if (!id) throw new Error(`unexpected reply ${reply}`);
        acked.push(id);
        sent++;
        await c.cmd('RSET');
      }
      await c.cmd('QUIT').catch(() => undefined);
    } catch {
      await sleep(20);
    } finally {
      c?.close();
    }
  }
  return acked;
}

test('crash safety: SIGKILL at random moments loses no message that was answered 250', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-crash-'));
  const delivered = join(dir, 'delivered');
  const config = join(dir, 'relay.yaml');
  const port = await freePort();
  await writeFile(delivered, '');
  await writeFile(config, `myhostname: relay.test\nlisten: ["127.0.0.1:${port}"]\nspool: ${join(dir, 'spool')}\nlog: { level: warn, file: ${join(dir, 'relay.log')} }\nqueue: { min_backoff: 1s, max_backoff: 2s, scan_interval: 1s }\n`);
  let child: RelayChild | undefined = await startChild({ config, delivered });
  try {
    const deadline = Date.now() + DEADLINE_MS;
    const sessions = Array.from({ length: SESSIONS }, (_, i) => sender(port, TOTAL / SESSIONS, i, deadline));
    let done = false;
    const all = Promise.all(sessions).finally(() => (done = true));
    for (let k = 0; k < KILLS && !done; k++) {
      await sleep(300 + Math.floor(Math.random() * 900));
      child.proc.kill('SIGKILL');
      await child.exited;
      child = undefined;
      child = await startChild({ config, delivered });
    }
    const acked = (await all).flat();
    assert.equal(acked.length, TOTAL, 'every message was eventually acknowledged');
    // everything acknowledged must come out, including what sat in active/ at a kill
    const want = new Set(acked);
    let got = new Set<string>();
    for (let waited = 0; waited < 20_000; waited += 100) {
      got = new Set((await readFile(delivered, 'utf8')).split('\n').filter(Boolean).map((l) => l.split(' ')[0] ?? ''));
      if ([...want].every((id) => got.has(id))) break;
      await sleep(100);
    }
    const lost = [...want].filter((id) => !got.has(id));
    assert.deepEqual(lost, [], `lost ${lost.length} acknowledged message(s)`);
    for (const d of ['incoming', 'active', 'deferred', 'corrupt']) {
      for (let waited = 0; waited < 5000 && (await readdir(join(dir, 'spool', d))).length > 0; waited += 100) await sleep(100);
      assert.deepEqual(await readdir(join(dir, 'spool', d)), [], `${d}/ is empty at the end`);
    }
  } finally {
    if (child) {
      child.proc.kill('SIGTERM');
      await Promise.race([child.exited, sleep(10_000)]);
      child.proc.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  }
});
