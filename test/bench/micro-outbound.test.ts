/**
 * Smoke run of the outbound micro-benchmark (test/bench/micro-outbound.ts)
 * with each engine: it completes against the bench's TLS sink, every
 * message is delivered (a delivery that fails makes the tool exit 2), and
 * the JSON line carries the figures. No timed assertions: the figures are
 * only checked to be there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface MicroResult {
  engine: string;
  messages: number;
  sessions: number;
  cpuSPer1000Messages: number;
  msgPerSec: number;
}

async function micro(args: string[]): Promise<MicroResult> {
  const { stdout } = await run(process.execPath, ['bin/run-ts.js', 'test/bench/micro-outbound.ts', '--messages', '30', '--warmup', '10', '--sessions', '3', '--timeout', '60', ...args], { cwd: ROOT, timeout: 90_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as MicroResult;
}

describe('micro-outbound bench (smoke)', () => {
  for (const engine of ['relay', 'nodemailer'] as const) {
    test(`--engine ${engine}: 30 messages delivered to the sink, figures printed`, async () => {
      const r = await micro(['--engine', engine]);
      assert.equal(r.engine, engine);
      assert.equal(r.messages, 30);
      assert.equal(r.sessions, 3);
      assert.ok(Number.isFinite(r.cpuSPer1000Messages) && r.cpuSPer1000Messages > 0);
      assert.ok(Number.isFinite(r.msgPerSec) && r.msgPerSec > 0);
    });
  }

  test('an unknown --engine is refused', async () => {
    await assert.rejects(micro(['--engine', 'sendmail']), /--engine: relay or nodemailer/);
  });
});
