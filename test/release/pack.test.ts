/**
 * The packed release, installed as a user installs it (issue 14): `npm pack`
 * (which builds dist/ through `prepare`), then
 * `npm install -g --prefix DIR --omit=dev FILE.tgz` into an empty prefix
 * (from the npm cache where it can), then from that install: `--version`,
 * `serve --help`, `check --help`, `queue list` on an empty spool,
 * `config check`, the lab, and a `serve` smoke run: it answers SMTP 220 on
 * loopback, accepts one message and delivers it (a transport entry routes
 * the test domain to a plain SMTP sink on loopback), then stops on SIGTERM.
 * Nothing on stderr: no warnings, no stack traces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../relay/child.ts';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd: opts.cwd ?? resolve('.'), timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      res({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The first line the server sends (bounded by the socket timeout). */
function greeting(port: number): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(10_000, () => { s.destroy(); rej(new Error('no greeting within 10 s')); });
    s.once('error', rej);
    s.setEncoding('utf8').once('data', (d: string) => { s.end('QUIT\r\n'); res(d.split('\r\n')[0] ?? ''); });
  });
}

/** A plain SMTP sink on loopback (no STARTTLS): resolves `received` with the first message's data. */
async function smtpSink(): Promise<{ port: number; received: Promise<string>; close(): void }> {
  let deliver: (data: string) => void = () => undefined;
  const received = new Promise<string>((res) => { deliver = res; });
  const server = createServer((sock) => {
    let buf = '';
    let inData = false;
    let data = '';
    sock.setEncoding('utf8');
    sock.write('220 sink.test ESMTP\r\n');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') { inData = false; deliver(data); sock.write('250 2.0.0 Ok: queued\r\n'); } else data += line + '\n';
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-sink.test\r\n250 PIPELINING\r\n');
        else if (verb === 'DATA') { inData = true; sock.write('354 go ahead\r\n'); } else if (verb === 'QUIT') sock.end('221 2.0.0 Bye\r\n');
        else sock.write('250 2.1.0 Ok\r\n');
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { port: (server.address() as AddressInfo).port, received, close: () => server.close() };
}

test('npm pack, install with --omit=dev into an empty prefix, run the release', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-pack-'));
  try {
    const packed = await run(NPM, ['pack', '--pack-destination', dir]);
    assert.equal(packed.code, 0, packed.stderr);
    const [tgz] = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack wrote a tarball');
    const prefix = join(dir, 'prefix');
    const installed = await run(NPM, ['install', '-g', '--prefix', prefix, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tgz)]);
    assert.equal(installed.code, 0, installed.stderr);
    const bin = join(prefix, 'bin', 'dane-relay');
    const pkgDir = join(prefix, 'lib', 'node_modules', 'dane-relay');
    const shipped = await readdir(pkgDir);
    assert.deepEqual(['bin', 'config', 'dist', 'README.md', 'systemd'].filter((f) => !shipped.includes(f)), [], 'the release holds what runs');
    assert.ok(!shipped.includes('src') && !shipped.includes('test'), 'no sources or tests in the release');
    assert.ok(!(await readdir(join(pkgDir, 'node_modules'))).includes('tsx'), 'no TypeScript loader installed');

    const version = await run(bin, ['--version']);
    assert.deepEqual([version.code, version.stderr], [0, '']);
    t.diagnostic(`dane-relay --version: ${version.stdout.trim()}`);
    for (const args of [['serve', '--help'], ['check', '--help'], ['config', 'check', '--quiet']]) {
      const r = await run(bin, args);
      assert.deepEqual([r.code, r.stderr], [0, ''], args.join(' '));
    }
    const spool = join(dir, 'empty-spool');
    await mkdir(spool);
    const list = await run(bin, ['queue', 'list', '--spool', spool]);
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, 'Mail queue is empty\n', '']);

    const lab = await run(bin, ['lab'], { timeoutMs: 300_000 });
    const summary = /^(\d+)\/(\d+) scenarios passed$/m.exec(lab.stdout);
    t.diagnostic(`dane-relay lab: ${summary?.[0] ?? lab.stdout.slice(-300)}`);
    assert.deepEqual([lab.code, lab.stderr], [0, ''], 'the lab passes from a production install, no warnings');
    assert.ok(summary && summary[1] === summary[2]);

    const port = await freePort();
    const sink = await smtpSink();
    const config = join(dir, 'relay.yaml');
    // No DANE needed and no resolver: level may, probe failure only warns (dns.dnssec_probe.on_failure);
    // the test domain goes to the sink by a transport entry ([IP]: no DNS at all).
    await writeFile(config, [
      'myhostname: relay.test', `listen: ["127.0.0.1:${port}"]`, `spool: ${join(dir, 'spool')}`,
      'tls: { security_level: may }', 'dns: { resolvers: ["127.0.0.1:9"], timeout: 1s, attempts: 1, dnssec_probe: { on_failure: warn } }',
      `delivery: { transport: { "smoke.test": "[127.0.0.1]:${sink.port}" } }`,
      `log: { file: ${join(dir, 'relay.log')} }`, '',
    ].join('\n'));
    const serve = spawn(bin, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    serve.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      let line = '';
      // Bounded: up to 100 connection attempts 100 ms apart while the relay starts.
      for (let i = 0; i < 100 && !line; i++) line = await greeting(port).catch(async () => { await new Promise((r) => setTimeout(r, 100)); return ''; });
      assert.match(line, /^220 relay\.test /);
      const c = await RawSmtp.connect(port);
      await c.greeting;
      assert.match(await c.send('sender@src.test', ['rcpt@smoke.test'], simpleMessage('packed release smoke')), /^250 2\.0\.0 Ok: queued as /);
      c.close();
      // Bounded: the sink gets the message within 30 s, or the test fails.
      const data = await Promise.race([sink.received, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('not delivered within 30 s')), 30_000).unref())]);
      assert.match(data, /Subject: packed release smoke/);
      t.diagnostic('serve from the release: accepted one message and delivered it to the sink');
      serve.kill('SIGTERM');
      const [code] = (await once(serve, 'exit')) as [number | null];
      assert.deepEqual({ code, stderr }, { code: 0, stderr: '' });
    } finally {
      if (serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
      sink.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
