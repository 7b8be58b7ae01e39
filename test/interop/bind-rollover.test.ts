/**
 * Tier 2, TLSA rollover against a real authoritative BIND (inline-signed
 * zone, dynamic updates with a TSIG key) and a validating Unbound, in their
 * own network namespace (test/interop/bind-rollover-lab.sh, prefix drtk-).
 *
 * The full rollover of issue 20, with the relay's verdict (`dane-relay check
 * smtp://mx.rollover.test:2525`) at every step: publish next (current + next)
 * → swap the server's certificate → retire the old record; Verified
 * throughout. A wrong TSIG key is refused and changes nothing; a retire step
 * computed for a certificate the server does not present is refused; a
 * monitor run catches a broken TLSA (changed with the real nsupdate) and the
 * zone's RRSIGs expiring within 7 days (validity 5 days).
 *
 * Skips (and says why) when not root or when named/nsupdate/unbound/drill
 * are missing (scripts/system-deps.sh installs them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import type { CheckReport } from '../../src/tools/check/types.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO, 'test/interop/bind-rollover-lab.sh');
const TOOLS = ['ip', 'named', 'nsupdate', 'tsig-keygen', 'unbound', 'drill'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = process.getuid?.() !== 0 ? 'needs root (network namespace)' : missing.length > 0 ? `missing: ${missing.join(', ')} (scripts/system-deps.sh)` : false;

interface Run { code: number; stdout: string; stderr: string }
const NS = `drtk-${process.pid}`;
const URL_ = 'smtp://mx.rollover.test:2525';
const OWNER = '_2525._tcp.mx.rollover.test';
const hex = (c: IssuedCert): string => Buffer.from(tlsaDataFor(c.der, 1, 1)).toString('hex');

describe('BIND rollover (issue 20)', { skip }, () => {
  let dir = '';
  let a: IssuedCert;
  let b: IssuedCert;
  let mx: ChildProcess | null = null;
  const transcript: string[] = [];

  function inNs(cmd: string, args: string[], input?: string): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile('ip', ['netns', 'exec', NS, cmd, ...args], { cwd: REPO, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  }
  async function cli(...args: string[]): Promise<Run> {
    const r = await inNs(process.execPath, ['bin/dane-relay.js', ...args]);
    transcript.push(`$ dane-relay ${args.join(' ')}\n${r.stdout}${r.stderr}[exit ${r.code}]`);
    return r;
  }
  async function verdict(step: string): Promise<{ state: string | null; records: string[]; code: number }> {
    const r = await inNs(process.execPath, ['bin/dane-relay.js', 'check', '--config', join(dir, 'relay.yaml'), '--json', URL_]);
    const d = (JSON.parse(r.stdout) as CheckReport).domains[0];
    const out = { state: d?.hosts[0]?.connections[0]?.state ?? null, records: d?.hosts[0]?.tlsa.records.map((x) => x.record) ?? [], code: r.code };
    transcript.push(`$ dane-relay check --json ${URL_}   # relay verdict after "${step}": ${out.state}, exit ${out.code}, TLSA ${out.records.map((x) => `${x.slice(0, 14)}…`).join(', ')}`);
    return out;
  }
  async function startMx(name: 'a' | 'b'): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', 'test/interop/bind-rollover-mx.ts', join(dir, `${name}.pem`), join(dir, `${name}.key`)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    mx = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (c: Buffer) => { if (c.toString().includes('listening')) resolve(); });
      child.once('exit', (code) => reject(new Error(`MX server exited ${code}`)));
    });
  }
  async function stopMx(): Promise<void> {
    const child = mx;
    mx = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drtk-bind-'));
    a = await createSelfSigned({ dnsNames: ['mx.rollover.test'] });
    b = await createSelfSigned({ dnsNames: ['mx.rollover.test'] });
    for (const [n, c] of [['a', a], ['b', b]] as const) {
      await writeFile(join(dir, `${n}.pem`), c.certPem);
      await writeFile(join(dir, `${n}.key`), c.keyPem);
    }
    await writeFile(join(dir, 'zone.extra'), `${OWNER}. 2 IN TLSA 3 1 1 ${hex(a)}\n`);
    await writeFile(join(dir, 'relay.yaml'), 'dns:\n  resolvers: ["127.0.0.1:53"]\n  dnssec_probe:\n    name: rollover.test\n    type: NS\ndelivery:\n  port: 2525\n');
    const up = spawnSync('bash', [SCRIPT, 'up', NS, dir], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(up.status, 0, up.stderr + up.stdout);
    await startMx('a');
  });
  after(async () => {
    await stopMx();
    spawnSync('bash', [SCRIPT, 'down', NS, dir], { timeout: 30_000 });
    process.stdout.write(`\n----- transcript -----\n${transcript.join('\n\n')}\n`);
    await rm(dir, { recursive: true, force: true });
  });

  const rollover = (...args: string[]): Promise<Run> => cli('tlsa', 'rollover', '--port', '2525', '--ttl', '2', '--resolver', '127.0.0.1', '--wait', '30', ...args);
  const update = (...args: string[]): string[] => ['--server', '127.0.0.53', '--zone', 'rollover.test', ...args];

  test('step 0: the current certificate (A) is Verified', async () => {
    const v = await verdict('start');
    assert.equal(v.state, 'Verified');
    assert.deepEqual(v.records, [`3 1 1 ${hex(a)}`]);
  });

  test('the plan: publish current + next now, keep next after 2 x TTL', async () => {
    const r = await rollover('--current', join(dir, 'a.pem'), '--next-key', join(dir, 'b.key'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${OWNER}\\. 2 IN TLSA 3 1 1 ${hex(a)}\\n${OWNER}\\. 2 IN TLSA 3 1 1 ${hex(b)}`));
  });

  test('RFC 8945: a wrong TSIG key is refused (BADSIG) and nothing changes', async () => {
    const wrong = `hmac-sha256:drtk-update:${Buffer.alloc(32, 7).toString('base64')}`;
    const r = await rollover('--step', 'publish', '--current', join(dir, 'a.pem'), '--next', join(dir, 'b.pem'), ...update('--tsig-key', wrong));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /update refused by 127\.0\.0\.53: NOTAUTH: TSIG error BADSIG; nothing was changed/);
    assert.deepEqual((await verdict('wrong TSIG key')).records, [`3 1 1 ${hex(a)}`]);
  });

  test('publish: current + next added, confirmed through the validating resolver, then "deploy the new certificate now"; A still Verified', async () => {
    const r = await rollover('--step', 'publish', '--current', join(dir, 'a.pem'), '--next', join(dir, 'b.pem'), '--running', URL_, ...update('--tsig-key-file', join(dir, 'update.key')));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /update accepted by 127\.0\.0\.53 \(TSIG drtk-update verified\)/);
    assert.match(r.stdout, /^deploy the new certificate now$/m);
    const v = await verdict('publish next');
    assert.equal(v.state, 'Verified');
    assert.deepEqual(v.records.sort(), [`3 1 1 ${hex(a)}`, `3 1 1 ${hex(b)}`].sort());
  });

  test('retire before the swap is refused: the server still presents A, not --current B', async () => {
    const r = await rollover('--step', 'retire', '--current', join(dir, 'b.pem'), '--old', join(dir, 'a.pem'), '--running', URL_, ...update('--tsig-key-file', join(dir, 'update.key')));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /presents .*not --current .*b\.pem/);
    assert.equal((await verdict('refused retire')).records.length, 2);
  });

  test('swap: the server now presents B, Verified by the next record', async () => {
    await stopMx();
    await startMx('b');
    const v = await verdict('swap to B');
    assert.equal(v.state, 'Verified');
  });

  test('retire: the old record deleted, confirmed, B still Verified', async () => {
    const r = await rollover('--step', 'retire', '--current', join(dir, 'b.pem'), '--old', join(dir, 'a.pem'), '--running', URL_, ...update('--tsig-key-file', join(dir, 'update.key')));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^old record retired$/m);
    const v = await verdict('retire A');
    assert.equal(v.state, 'Verified');
    assert.deepEqual(v.records, [`3 1 1 ${hex(b)}`]);
  });

  test('monitor: a broken TLSA (changed with nsupdate) and RRSIGs expiring within 7 days are reported', async () => {
    const state = join(dir, 'monitor.json');
    const args = ['monitor', '--config', join(dir, 'relay.yaml'), '--state', state, '--rrsig-days', '7', URL_, 'rollover.test'];
    const first = await cli(...args);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stdout, /rollover\.test: WARNING rrsig-expiry: RRSIG over rollover\.test MX/);
    assert.match(first.stdout, new RegExp(`WARNING rrsig-expiry: RRSIG over ${OWNER.replace(/\./g, '\\.')} TLSA`));
    const wrong = 'ab'.repeat(32);
    const ns = await inNs('nsupdate', ['-k', join(dir, 'update.key')], `server 127.0.0.53 53\nzone rollover.test.\nupdate delete ${OWNER}. IN TLSA 3 1 1 ${hex(b)}\nupdate add ${OWNER}. 2 IN TLSA 3 1 1 ${wrong}\nsend\n`);
    transcript.push(`$ nsupdate -k update.key  (delete B's record, add a wrong one)\n[exit ${ns.code}] ${ns.stderr}`);
    assert.equal(ns.code, 0, ns.stderr);
    let second: Run | null = null;
    for (let i = 0; i < 10; i++) { // bounded: the resolver caches the old RRset for at most 2 s (cache-max-ttl)
      second = await cli(...args);
      if (/PASS -> FAIL/.test(second.stdout)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(second?.stdout ?? '', new RegExp(`${URL_.replace(/[/.]/g, '\\$&')}: PASS -> FAIL: Server certificate not verified`));
    assert.doesNotMatch(second?.stdout ?? '', /rrsig-expiry/, 'the same RRSIG warnings are not repeated');
    assert.equal(second?.code, 1);
  });
});
