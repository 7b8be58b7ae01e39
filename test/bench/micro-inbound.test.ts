/**
 * Smoke run of the inbound micro-benchmark (test/bench/micro-inbound.ts)
 * with each client and each spool: it completes, every message is queued,
 * and the JSON line carries the figures. No timed assertions: the figures
 * are only checked to be there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface MicroResult {
  client: string;
  server: string;
  spool: string | null;
  connections: number;
  messages: number;
  queued: number;
  cpuSPer1000Messages: number | null;
  cpuSPer1000Connections: number;
}

async function micro(args: string[]): Promise<MicroResult> {
  const { stdout } = await run(process.execPath, ['bin/run-ts.js', 'test/bench/micro-inbound.ts', '--connections', '30', '--sessions', '3', '--timeout', '60', ...args], { cwd: ROOT, timeout: 90_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as MicroResult;
}

describe('micro-inbound bench (smoke)', () => {
  for (const [client, spool, perConnection, connections, messages] of [
    ['own', 'disk', '1', 30, 30],
    ['own', 'memory', '2', 30, 60],
    ['smtp-source', 'disk', '1', 30, 30],
    ['smtp-source', 'memory', '1', 30, 30],
    // -d: one connection per session
    ['smtp-source', 'disk', '5', 3, 30],
  ] as const) {
    test(`--client ${client} --spool ${spool} --per-connection ${perConnection}: every message queued, figures printed`, async () => {
      const r = await micro(['--client', client, '--spool', spool, '--per-connection', perConnection]);
      assert.equal(r.client, client);
      assert.equal(r.server, 'relay');
      assert.equal(r.spool, spool);
      assert.equal(r.connections, connections);
      assert.equal(r.messages, messages);
      assert.equal(r.queued, messages);
      assert.equal(typeof r.cpuSPer1000Messages, 'number');
      assert.ok(Number.isFinite(r.cpuSPer1000Connections));
    });
  }

  for (const client of ['own', 'smtp-source'] as const) {
    test(`--server smtp-server --client ${client}: the library alone reads every message to its end`, async () => {
      const r = await micro(['--client', client, '--server', 'smtp-server']);
      assert.equal(r.server, 'smtp-server');
      assert.equal(r.spool, null);
      assert.equal(r.messages, 30);
      assert.equal(r.queued, 30);
      assert.equal(typeof r.cpuSPer1000Messages, 'number');
    });
  }

  test('an unknown --client, --spool or --server is refused', async () => {
    await assert.rejects(micro(['--client', 'telnet']), /--client: own or smtp-source/);
    await assert.rejects(micro(['--spool', 'tape']), /--spool: disk or memory/);
    await assert.rejects(micro(['--server', 'exim']), /--server: relay or smtp-server/);
  });
});
