/**
 * `dane-relay config check` and `serve` stop on a bad level or table entry
 * with one line and exit 78 (EX_CONFIG) before any DNS probe or socket; a
 * SIGHUP reload with such a typo keeps the running configuration (C19).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RawSmtp } from '../fixtures/smtp-client.ts';
import { freePort, startChild } from '../relay/child.ts';

const BIN = resolve('bin/dane-relay.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      res({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('dane-relay config check', () => {
  test('a good file: exit 0, prints the effective configuration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-cc-'));
    try {
      await writeFile(join(dir, 'pol'), 'example.com dane-only\n');
      await writeFile(join(dir, 'ok.yaml'), `tls:\n  security_level: may\n  policy_file: ${join(dir, 'pol')}\n`);
      const r = await run(['config', 'check', '--config', join(dir, 'ok.yaml')]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /is valid/);
      assert.match(r.stdout, /tls policy table: 1 entries/);
      assert.match(r.stdout, /security_level: may/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const bad: Array<{ name: string; yaml: (dir: string) => string; files?: Record<string, string>; line: RegExp }> = [
    { name: 'security_level: dnae', yaml: () => 'tls:\n  security_level: dnae\n', line: /^dane-relay: config error: tls\.security_level: unknown value "dnae", expected one of .*\n$/ },
    {
      name: 'a policy-file line dane-onyl',
      files: { pol: 'example.org dane-only\nexample.com dane-onyl\n' },
      yaml: (dir) => `tls:\n  policy_file: ${join(dir, 'pol')}\n`,
      line: /^dane-relay: config error: tls\.policy_file: \/.*\/pol: line 2: unknown security level "dane-onyl"\n$/,
    },
    {
      name: 'three schema errors at once: one line each, in order (as postfix check)',
      yaml: () => 'tls:\n  security_level: dnae\n  dane_insecure_mx_policy: maybe\ninbound:\n  max_clients: -3\n',
      line: /^dane-relay: config error: inbound\.max_clients: .*\ndane-relay: config error: tls\.security_level: unknown value "dnae".*\ndane-relay: config error: tls\.dane_insecure_mx_policy: unknown value "maybe".*\n$/,
    },
  ];
  for (const c of bad) {
    test(`${c.name}: a line naming the key or file:line per error, exit 78`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dane-relay-cc-'));
      try {
        for (const [name, text] of Object.entries(c.files ?? {})) await writeFile(join(dir, name), text);
        await writeFile(join(dir, 'bad.yaml'), c.yaml(dir));
        const r = await run(['config', 'check', '--config', join(dir, 'bad.yaml')]);
        assert.equal(r.code, 78);
        assert.match(r.stderr, c.line);
        assert.equal(r.stdout, '');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('serve with a policy entry dane-onyl exits 78 with one line, creates no spool (before DNS probe and sockets)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-cc-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), `spool: ${join(dir, 'spool')}\nlisten: ["127.0.0.1:0"]\ntls:\n  policy:\n    example.com: dane-onyl\n`);
      const r = await run(['serve', '--config', join(dir, 'bad.yaml')]);
      assert.equal(r.code, 78);
      assert.equal(r.stderr, 'dane-relay: config error: tls.policy.example.com: unknown security level "dane-onyl"\n');
      await assert.rejects(stat(join(dir, 'spool')), 'no spool was created');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SIGHUP with a typo', () => {
  test('a reload whose policy entry is dane-onyl is rejected and logged; the running configuration keeps accepting mail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-cc-'));
    const port = await freePort();
    const config = join(dir, 'relay.yaml');
    const logFile = join(dir, 'relay.log');
    const base = `myhostname: relay.test\nlisten: ["127.0.0.1:${port}"]\nspool: ${join(dir, 'spool')}\nlog: { level: info, file: ${logFile} }\n`;
    await writeFile(config, base);
    const child = await startChild({ config, delivered: join(dir, 'delivered') });
    try {
      await writeFile(config, `${base}tls:\n  policy:\n    example.com: dane-onyl\n`);
      child.proc.kill('SIGHUP');
      // Bounded wait for the log line (the reload is asynchronous): up to 100 x 50 ms.
      for (let i = 0; i < 100 && !(await readFile(logFile, 'utf8').catch(() => '')).includes('reload rejected'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(await readFile(logFile, 'utf8'), /reload rejected, keeping the running configuration: config error: tls\.policy\.example\.com: unknown security level \\"dane-onyl\\""/);
      const c = await RawSmtp.connect(child.port);
      try {
        assert.match(await c.greeting, /^220 /);
        assert.match(await c.cmd('EHLO client.test'), /^250/);
      } finally {
        c.close();
      }
      assert.equal(child.proc.exitCode, null, 'still running');
    } finally {
      child.proc.kill('SIGKILL');
      if (child.proc.exitCode === null) await once(child.proc, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
