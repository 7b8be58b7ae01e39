/**
 * Smoke run of the benchmark (CI runs it through `npm test`): a small load
 * through a real dane-relay child process, checking that the bench completes
 * and that every message arrived at the sink over TLS the relay logged as
 * `Verified` (DANE-EE `3 1 1`, RFC 7672 §3.1.1). No timed assertions: the
 * figures are printed, never compared with a threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/run-ts.js', 'test/bench/bench.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface SmokeResult {
  ok: boolean;
  runs: Array<{ mta: string; messages: number; accepted: number; delivered: number; plaintextArrivals: number; tlsSessionsByState: Record<string, number>; timedOut: boolean; warmup?: number }>;
  summaries: Array<{ allDelivered: boolean; allVerified: boolean }>;
}

test('bench smoke: 50 messages through dane-relay all arrive over verified TLS (C30 audit trail, DANE-EE 3 1 1)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  try {
    const jsonFile = join(dir, 'result.json');
    const r = await runBench(['--messages', '50', '--warmup', '20', '--runs', '1', '--sessions', '5', '--timeout', '120', '--json', jsonFile], 240_000);
    assert.equal(r.code, 0, `bench failed:\n${r.stderr}\n${r.stdout}`);
    const lastLine = r.stdout.trim().split('\n').at(-1) ?? '';
    const printed = JSON.parse(lastLine) as SmokeResult;
    const saved = JSON.parse(await readFile(jsonFile, 'utf8')) as SmokeResult;
    assert.deepEqual(saved, printed);
    assert.equal(printed.ok, true);
    assert.equal(printed.runs.length, 1);
    const run = printed.runs[0];
    assert.ok(run);
    assert.equal(run.mta, 'dane-relay');
    assert.equal(run.timedOut, false);
    assert.equal(run.accepted, 50);
    assert.equal(run.delivered, 50, 'the 20 warm-up messages are not in the figures');
    assert.equal(run.warmup, 20);
    assert.equal(run.plaintextArrivals, 0);
    assert.ok((run.tlsSessionsByState.Verified ?? 0) > 0, JSON.stringify(run.tlsSessionsByState));
    assert.deepEqual(Object.keys(run.tlsSessionsByState), ['Verified']);
    assert.deepEqual(printed.summaries.map((s) => [s.allDelivered, s.allVerified]), [[true, true]]);
    assert.match(r.stdout, /delivered msg\/s/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
