/**
 * `dane-relay check` end to end on loopback: the lab resolver (signed zone
 * `test`), lab MX servers and an attacker proxy (test/tools/check/fixture.ts).
 * Driven in-process through the commander registration (`runCheckCommand`),
 * and as a child process (`node bin/dane-relay.js check …`) for exit codes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheckCommand, type Terminal } from '../../src/cli/check.ts';
import type { CheckReport, DomainReport } from '../../src/tools/check/types.ts';
import { startCheckLab, type CheckLab } from '../tools/check/fixture.ts';

interface Run { code: number; stdout: string; stderr: string }

async function check(argv: string[], terminal?: Terminal): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => { stdout += s; }, stderr: (s: string) => { stderr += s; }, stdin: process.stdin };
  const code = await runCheckCommand(argv, io, terminal);
  return { code, stdout, stderr };
}

function child(argv: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/dane-relay.js', 'check', ...argv], { cwd: join(import.meta.dirname, '../..'), timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }));
  });
}

const only = (r: Run): DomainReport => {
  const report = JSON.parse(r.stdout) as CheckReport;
  assert.equal(report.domains.length, 1);
  return report.domains[0] as DomainReport;
};
const firstConnection = (d: DomainReport) => d.hosts[0]?.connections[0];

describe('dane-relay check (CLI)', () => {
  let lab: CheckLab;
  let dir = '';
  before(async () => {
    lab = await startCheckLab();
    dir = await mkdtemp(join(tmpdir(), 'check-cli-'));
  });
  after(async () => {
    await lab.close();
    await rm(dir, { recursive: true, force: true });
  });
  const json = (...domains: string[]): Promise<Run> => check([...lab.args, '--json', ...domains]);

  test('C22/C17: 3 1 1 matching the leaf → exit 0, Verified, SNI = TLSA base, record marked matched at depth 0', async () => {
    const r = await json('good.test');
    assert.equal(r.code, 0, r.stderr);
    const d = only(r);
    assert.equal(d.verdict, 'pass');
    assert.equal(d.mx.dnssec, 'secure');
    assert.deepEqual(d.mx.records, [{ preference: 10, host: 'mx.good.test' }]);
    const h = d.hosts[0];
    assert.equal(h?.addresses.secure, true);
    assert.equal(h?.tlsa.status, 'records');
    assert.equal(h?.tlsa.owner, `_${lab.port}._tcp.mx.good.test`);
    const c = firstConnection(d);
    assert.equal(c?.state, 'Verified');
    assert.equal(c?.sni, 'mx.good.test');
    assert.equal(c?.feature, 'dane');
    assert.match(c?.tls?.protocol ?? '', /^TLSv1\.[23]$/);
    assert.deepEqual(c?.matched, { record: lab.goodRecord, depth: 0 });
    assert.deepEqual(c?.chain?.certificates[0]?.marks, [{ record: lab.goodRecord, matched: true }]);
    assert.deepEqual(lab.servers.good.sessions().map((s) => s.sni).filter((s) => s !== null).slice(0, 1), ['mx.good.test']);
  });

  const failing: Array<{ name: string; domain: string; dsn: string | RegExp; reason: (port: number) => RegExp }> = [
    { name: 'C16: one hex digit changed → exit 1, Server certificate not verified', domain: 'bad.test', dsn: '4.7.5', reason: () => /^Server certificate not verified$/ },
    { name: 'C14: server without STARTTLS while TLSA exists → exit 1, TLS is required, but was not offered', domain: 'strip.test', dsn: '4.7.4', reason: () => /^TLS is required, but was not offered by host mx\.strip\.test\[127\.0\.0\.4\]$/ },
    { name: 'C14: STARTTLS stripped by an on-path attacker → exit 1', domain: 'mitm.test', dsn: '4.7.4', reason: () => /^TLS is required, but was not offered by host mx\.mitm\.test\[127\.0\.0\.8\]$/ },
    { name: 'C14: TLS handshake failure while TLSA exists → exit 1, no plaintext fall-back', domain: 'hsfail.test', dsn: '4.7.5', reason: () => /^Cannot start TLS: handshake failure with mx\.hsfail\.test\[127\.0\.0\.9\]$/ },
    { name: 'C4/C1: TLSA lookup SERVFAIL (bogus) → exit 1, TLSA lookup error for HOST:PORT', domain: 'bogus-tlsa.test', dsn: '4.7.5', reason: (p) => new RegExp(`^TLSA lookup error for mx\\.bogus-tlsa\\.test:${p}$`) },
    { name: 'C3/C1: MX lookup SERVFAIL (bogus) → exit 1, deferred 4.4.3, no fall-back to A records', domain: 'bogus-mx.test', dsn: '4.4.3', reason: () => /Name service error for name=bogus-mx\.test type=MX: Host not found, try again/ },
    { name: 'C29: null MX → exit 1, 5.1.10', domain: 'nullmx.test', dsn: '5.1.10', reason: () => /does not accept mail/ },
    { name: 'NXDOMAIN → exit 1, 5.1.2', domain: 'nonexistent.test', dsn: '5.1.2', reason: () => /Host not found$/ },
  ];
  for (const c of failing) {
    test(c.name, async () => {
      const r = await json(c.domain);
      assert.equal(r.code, 1, r.stderr);
      const d = only(r);
      assert.equal(d.verdict, 'fail');
      assert.equal(d.dsn, c.dsn);
      assert.match(d.reason ?? '', c.reason(lab.port));
    });
  }

  test('C16: the mismatching record is shown not matched, the state Untrusted, tls=!dane', async () => {
    const c = firstConnection(only(await json('bad.test')));
    assert.equal(c?.verdict, 'fail');
    assert.equal(c?.state, 'Untrusted');
    assert.equal(c?.feature, '!dane');
    assert.equal(c?.matched, null);
    assert.equal(c?.chain?.certificates[0]?.marks[0]?.matched, false);
    assert.match(c?.detail ?? '', /no TLSA record matched/);
  });

  test('C23: DANE-TA 2 1 1 of the issuing CA → Verified, matched at depth 1', async () => {
    const r = await json('ta.test');
    assert.equal(r.code, 0, r.stderr);
    const c = firstConnection(only(r));
    assert.equal(c?.state, 'Verified');
    assert.equal(c?.matched?.depth, 1);
    assert.deepEqual(c?.chain?.certificates.map((x) => x.marks.map((m) => m.matched)), [[], [true]]);
  });

  test('C2/C5: no TLSA at all → exit 0 with the note "dane: not applicable (no secure TLSA)"', async () => {
    const r = await json('notlsa.test');
    assert.equal(r.code, 0, r.stderr);
    const d = only(r);
    assert.equal(d.verdict, 'pass');
    assert.ok(d.notes.includes('dane: not applicable (no secure TLSA)'), d.notes.join('; '));
    assert.equal(d.hosts[0]?.tlsa.dnssec, 'securely absent (nxdomain)');
    assert.equal(firstConnection(d)?.feature, 'dane:may');
  });

  test('no TLSA and a failing handshake: the relay delivers in plaintext at may → pass, with a note', async () => {
    const r = await json('hsfail-may.test');
    assert.equal(r.code, 0, r.stderr);
    const d = only(r);
    assert.equal(firstConnection(d)?.plaintextFallback, true);
    assert.equal(firstConnection(d)?.state, null);
    assert.ok(d.notes.some((n) => /TLS handshake failed, the relay would deliver in plaintext/.test(n)), d.notes.join('; '));
  });

  test('C16: primary MX verified, secondary mismatching → degraded, exit 1, deliverable via the primary', async () => {
    const r = await json('degraded.test');
    assert.equal(r.code, 1);
    const d = only(r);
    assert.equal(d.verdict, 'degraded');
    assert.equal(d.deliverVia, `mx.good.test[127.0.0.2]:${lab.port}`);
    assert.equal(d.reason, 'Server certificate not verified');
  });

  test('--level may: the relay would not look up TLSA, so the mismatching domain passes with a note', async () => {
    const r = await check([...lab.args, '--json', '--level', 'may', 'bad.test']);
    assert.equal(r.code, 0, r.stderr);
    const d = only(r);
    assert.equal(d.hosts[0]?.tlsa.status, 'not-looked-up');
    assert.ok(d.notes.includes('dane: not used at level may'));
  });

  test('--level verify with --ca-file: PKIX to the given root and the MX name → Verified; without the root → not verified', async () => {
    const ca = join(dir, 'root.pem');
    await writeFile(ca, lab.rootPem);
    const withRoot = await check([...lab.args, '--json', '--level', 'verify', '--ca-file', ca, 'ta.test']);
    assert.equal(withRoot.code, 0, withRoot.stderr);
    const c = firstConnection(only(withRoot));
    assert.equal(c?.state, 'Verified');
    assert.deepEqual(c?.matched, { record: 'name mx.ta.test', depth: 2 });
    const without = await check([...lab.args, '--json', '--level', 'verify', 'ta.test']);
    assert.equal(without.code, 1);
    assert.equal(only(without).reason, 'Server certificate not verified');
    const notPem = await check([...lab.args, '--ca-file', join(dir, 'root-missing.pem'), 'ta.test']);
    assert.equal(notPem.code, 2);
  });

  test('--json shape: the same facts as the text, top to bottom', async () => {
    const report = JSON.parse((await json('good.test')).stdout) as CheckReport;
    assert.deepEqual(Object.keys(report).sort(), ['dnssecProbe', 'domains', 'exitCode', 'level', 'summary', 'version']);
    const d = report.domains[0] as DomainReport;
    assert.deepEqual(Object.keys(d).sort(), ['deliverVia', 'domain', 'dsn', 'hosts', 'mx', 'nextHop', 'notes', 'policy', 'reason', 'verdict']);
    assert.deepEqual(Object.keys(d.hosts[0] ?? {}).sort(), ['addresses', 'connections', 'host', 'policy', 'port', 'preference', 'skipped', 'source', 'tlsa']);
    assert.deepEqual(Object.keys(firstConnection(d) ?? {}).sort(), [
      'chain', 'detail', 'dsn', 'feature', 'injectionBytes', 'ip', 'matched', 'plaintextFallback', 'port', 'reason', 'sni', 'state', 'tls', 'verdict',
    ]);
    assert.deepEqual(report.summary, { domains: 1, pass: 1, degraded: 0, fail: 0 });
    assert.equal(report.exitCode, 0);
  });

  test('text output: indented, no colour off a terminal, colour on a terminal unless NO_COLOR', async () => {
    const plain = await check([...lab.args, 'good.test', 'bad.test']);
    assert.equal(plain.code, 1);
    assert.doesNotMatch(plain.stdout, /\u001b\[/);
    assert.match(plain.stdout, /^good\.test {2}PASS$/m);
    assert.match(plain.stdout, /^ {6}state Verified \(matched 3 1 1 [0-9a-f]{64} at depth 0\)$/m);
    assert.match(plain.stdout, /^ {6}Server certificate not verified \(4\.7\.5\)$/m);
    assert.match(plain.stdout, /^2 domain\(s\): 1 pass, 0 degraded, 1 fail$/m);
    const tty = await check([...lab.args, 'good.test'], { isTTY: true, noColor: false });
    assert.match(tty.stdout, /\u001b\[32mPASS/);
    const noColor = await check([...lab.args, 'good.test'], { isTTY: true, noColor: true });
    assert.doesNotMatch(noColor.stdout, /\u001b\[/);
  });

  test('--file with comments and blank lines, bounded concurrency, results in list order', async () => {
    const file = join(dir, 'domains.txt');
    await writeFile(file, '# partners\n\ngood.test\nnotlsa.test   # opportunistic\nta.test\n#bad.test\n');
    const ok = await check([...lab.args, '--json', '--concurrency', '2', '--file', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as CheckReport).domains.map((d) => d.domain), ['good.test', 'notlsa.test', 'ta.test']);
    const mixed = await check([...lab.args, '--json', '--file', file, 'bad.test']);
    assert.equal(mixed.code, 1);
    assert.deepEqual((JSON.parse(mixed.stdout) as CheckReport).summary, { domains: 4, pass: 3, degraded: 0, fail: 1 });
  });

  test('usage and operational errors → exit 2', async () => {
    const bad = join(dir, 'bad-list.txt');
    await writeFile(bad, 'good.test\nnot a domain\n');
    const cases: Array<[string[], RegExp]> = [
      [[...lab.args], /no domain to check/],
      [[...lab.args, '--port', '0', 'good.test'], /port must be an integer/],
      [[...lab.args, '--level', 'paranoid', 'good.test'], /one of none, may/],
      [[...lab.args, '--resolver', 'dns.example', 'good.test'], /expected IP or IP:PORT/],
      [[...lab.args, '--bogus-flag', 'good.test'], /unknown option/],
      [[...lab.args, '--file', join(dir, 'missing.txt')], /cannot read .*missing\.txt: ENOENT/],
      [[...lab.args, '--file', bad], /bad-list\.txt:2: not a domain name/],
      [[...lab.args, '--config', join(dir, 'missing.yaml'), 'good.test'], /config error: cannot read/],
      [[...lab.args, 'user@good.test'], /not a domain name/],
    ];
    for (const [argv, message] of cases) {
      const r = await check(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, message, argv.join(' '));
    }
  });

  test('C6: a resolver that does not validate → exit 2 (the relay would refuse to start), nothing connected', async () => {
    lab.resolver.setValidating(false);
    const before = lab.servers.good.sessions().length;
    try {
      const r = await check([...lab.args, 'good.test']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /DNSSEC probe/);
    } finally {
      lab.resolver.setValidating(true);
    }
    assert.equal(lab.servers.good.sessions().length, before);
  });

  test('child process: exit 0 pass, 1 DANE failure, 2 usage error', async () => {
    const pass = await child([...lab.args, 'good.test']);
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(pass.stdout, /state Verified/);
    const fail = await child([...lab.args, 'bad.test', 'strip.test']);
    assert.equal(fail.code, 1, fail.stderr);
    assert.match(fail.stdout, /Server certificate not verified/);
    assert.match(fail.stdout, /TLS is required, but was not offered by host mx\.strip\.test/);
    const usage = await child([...lab.args]);
    assert.equal(usage.code, 2);
  });

  test('no mail is sent: every MX server saw sessions, none saw MAIL FROM, no message and no plaintext body passed the attacker', async () => {
    const all = Object.values(lab.servers);
    assert.ok(lab.servers.good.sessions().length > 0 && lab.servers.bad.sessions().length > 0 && lab.servers.strip.sessions().length > 0);
    for (const s of all) {
      assert.deepEqual(s.sessions().filter((x) => x.mailFrom), [], s.label);
      assert.deepEqual(s.messages(), [], s.label);
    }
    assert.ok(lab.proxy.stats().connections > 0);
    assert.equal(lab.proxy.sawMessageInClear(), false);
  });
});
