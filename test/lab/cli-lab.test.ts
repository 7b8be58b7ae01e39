/** `dane-relay lab` (src/cli/lab.ts), run in-process with an injected io. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerLab, runLabCommand } from '../../src/cli/lab.ts';
import type { LabCliIo } from '../../src/cli/lab.ts';

function captureIo(): LabCliIo & { out: string[]; err: string[]; code: number | undefined; stops: number } {
  const io = {
    out: [] as string[], err: [] as string[], code: undefined as number | undefined, stops: 0,
    stdout: (s: string) => { io.out.push(s); },
    stderr: (s: string) => { io.err.push(s); },
    setExitCode: (c: number) => { io.code = c; },
    waitForStop: () => { io.stops++; return Promise.resolve(); },
  };
  return io;
}

describe('dane-relay lab command', () => {
  test('--list prints every scenario and exits 0', async () => {
    const io = captureIo();
    assert.equal(await runLabCommand({ list: true }, io), 0);
    assert.ok(io.out.length >= 25);
    assert.match(io.out[0]!, /^s01-/);
  });

  test('an unknown scenario is a usage error (2)', async () => {
    const io = captureIo();
    assert.equal(await runLabCommand({ scenario: ['no-such-case'] }, io), 2);
    assert.match(io.err.join(''), /unknown scenario/);
  });

  test('C22: --scenario ee-311 --json runs one case and exits 0 when it passes', async () => {
    const io = captureIo();
    const program = new Command().exitOverride();
    registerLab(program, io);
    await program.parseAsync(['node', 'dane-relay', 'lab', '--scenario', 'ee-311', '--json']);
    assert.equal(io.code, 0, io.out.join('') + io.err.join(''));
    const report = JSON.parse(io.out.join('')) as { pass: boolean; total: number; results: Array<{ name: string; pass: boolean }> };
    assert.equal(report.total, 1);
    assert.equal(report.pass, true);
    assert.match(report.results[0]!.name, /ee-311$/);
  });

  test('--keep prints the lab addresses, waits for stop, then tears down', async () => {
    const io = captureIo();
    const code = await runLabCommand({ scenario: ['null-mx'], keep: true }, io);
    assert.equal(code, 0, io.out.join(''));
    assert.equal(io.stops, 1);
    assert.match(io.out.join(''), /scenario\s+\| expected/);
    assert.match(io.err.join(''), /lab resolver: +127\.0\.0\.1:\d+/);
    assert.match(io.err.join(''), /null-mx\.lab\.test/);
  });
});
