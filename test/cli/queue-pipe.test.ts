/**
 * `dane-relay queue show ID | head -1`: output into a closed pipe ends the
 * command quietly with exit 0 (EPIPE handled on stdout, src/cli/main.ts),
 * as Unix tools do; no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { storeMessage, tempSpool } from '../queue/helpers.ts';

test('queue show into a pipe closed after the first line: exit 0, nothing on stderr', async () => {
  const { spool, dir, cleanup } = await tempSpool();
  try {
    const id = await storeMessage(spool, 'alice@src.test', ['bob@dst.test'], { body: ('y'.repeat(998) + '\r\n').repeat(4000) });
    const child = spawn(process.execPath, [resolve('bin/dane-relay.js'), 'queue', 'show', id, '--spool', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    assert.match(first.toString('utf8'), /^\*\*\* ENVELOPE RECORDS/);
    child.stdout.destroy(); // the reader goes away, as `head -1` does
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    assert.deepEqual({ code, signal, stderr }, { code: 0, signal: null, stderr: '' });
  } finally {
    await cleanup();
  }
});
