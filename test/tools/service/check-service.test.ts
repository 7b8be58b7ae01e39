/**
 * `dane-relay check` with service URLs, end to end on loopback: lab resolver
 * (signed zone `svc`), TLS / IMAP-STARTTLS servers and a lab MX
 * (fixture.ts). Driven in-process through the commander registration, so the
 * dispatch in cli/check.ts is exercised too.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheckCommand } from '../../../src/cli/check.ts';
import type { CheckReport, DomainReport } from '../../../src/tools/check/types.ts';
import { startServiceLab, type ServiceLab } from './fixture.ts';

interface Run { code: number; stdout: string; stderr: string }

async function check(argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCheckCommand(argv, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, stdin: process.stdin });
  return { code, stdout, stderr };
}

const only = (r: Run): DomainReport => {
  const report = JSON.parse(r.stdout) as CheckReport;
  assert.equal(report.domains.length, 1, r.stdout);
  return report.domains[0] as DomainReport;
};

describe('check SERVICE-URL', () => {
  let lab: ServiceLab;
  let dir = '';
  let caFile = '';
  before(async () => {
    lab = await startServiceLab();
    dir = await mkdtemp(join(tmpdir(), 'svc-check-'));
    caFile = join(dir, 'root.pem');
    await writeFile(caFile, lab.publicRoot.certPem);
  });
  after(async () => {
    await lab?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const json = (...argv: string[]): Promise<Run> => check([...lab.args, '--json', ...argv]);

  test('RFC 7671 §5.1: https:// with 3 1 1 of the leaf → exit 0, Verified, SNI = host, TLSA at _PORT._tcp.HOST', async () => {
    const r = await json(`https://www.svc:${lab.www.port}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const d = only(r);
    assert.equal(d.domain, `https://www.svc:${lab.www.port}`);
    assert.equal(d.verdict, 'pass');
    assert.equal(d.hosts[0]?.tlsa.owner, `_${lab.www.port}._tcp.www.svc`);
    const c = d.hosts[0]?.connections[0];
    assert.equal(c?.state, 'Verified');
    assert.equal(c?.sni, 'www.svc');
    assert.equal(c?.matched?.depth, 0);
    assert.match(c?.matched?.record ?? '', /^3 1 1 /);
  });

  test('C16 for services: https:// with a record one hex digit off → exit 1, fail 4.7.5, no match', async () => {
    const r = await json(`https://bad.svc:${lab.www.port}`);
    assert.equal(r.code, 1);
    const d = only(r);
    assert.equal(d.verdict, 'fail');
    assert.equal(d.dsn, '4.7.5');
    assert.equal(d.hosts[0]?.connections[0]?.state, 'Untrusted');
    assert.match(d.hosts[0]?.connections[0]?.detail ?? '', /no TLSA record matched/);
  });

  test('C1/C4 for services: TLSA SERVFAIL → exit 1, TLSA lookup error, nothing connected (never "no TLSA")', async () => {
    const r = await json(`https://servfail.svc:${lab.www.port}`);
    assert.equal(r.code, 1);
    const d = only(r);
    assert.equal(d.verdict, 'fail');
    assert.equal(d.hosts[0]?.tlsa.status, 'tempfail');
    assert.equal(d.reason, `TLSA lookup error for servfail.svc:${lab.www.port}`);
    assert.deepEqual(d.hosts[0]?.connections, []);
  });

  test('C5 for services: secure denial of TLSA → pass, dane not applicable, PKIX reported', async () => {
    const d = only(await json(`https://notlsa.svc:${lab.www.port}`));
    assert.equal(d.verdict, 'pass');
    assert.equal(d.hosts[0]?.tlsa.status, 'not-applicable');
    assert.match(d.notes.join('\n'), /dane: not applicable/);
  });

  test('RFC 6698 §2.1.1: PKIX-EE(1) counts for HTTPS when the chain is PKIX-valid (--ca-file) → exit 0', async () => {
    const r = await json('--ca-file', caFile, `https://pkixee.svc:${lab.pkix.port}`);
    assert.equal(r.code, 0, r.stdout);
    const c = only(r).hosts[0]?.connections[0];
    assert.equal(c?.state, 'Verified');
    assert.match(c?.matched?.record ?? '', /^1 1 1 /);
  });

  test('RFC 6698 §2.1.1: PKIX-EE(1) with a chain the PKIX store does not trust → exit 1, the match alone is not enough', async () => {
    const r = await json(`https://pkixee.svc:${lab.pkix.port}`);
    assert.equal(r.code, 1);
    const d = only(r);
    assert.equal(d.dsn, '4.7.5');
    assert.match(d.hosts[0]?.connections[0]?.detail ?? '', /PKIX/);
  });

  test('RFC 6698 §2.1.1: PKIX-TA(0) of the store\'s root (not presented) matches at the anchor depth → exit 0', async () => {
    const r = await json('--ca-file', caFile, `https://pkixta.svc:${lab.pkix.port}`);
    assert.equal(r.code, 0, r.stdout);
    const c = only(r).hosts[0]?.connections[0];
    assert.match(c?.matched?.record ?? '', /^0 0 1 /);
    assert.equal(c?.matched?.depth, 2);
  });

  test('imap:// STARTTLS (RFC 3501 §6.2.1) with 3 1 1 → exit 0, Verified', async () => {
    const r = await json(`imap://mail.svc:${lab.imap.port}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(only(r).hosts[0]?.connections[0]?.state, 'Verified');
  });

  test('smtp://host:port is the relay\'s own route to [host]:port (C9, no MX lookup): 3 1 1 → Verified', async () => {
    const r = await json(`smtp://mx.svc:${lab.mxPort}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const d = only(r);
    assert.equal(d.mx.route, 'bracketed');
    assert.equal(d.hosts[0]?.connections[0]?.state, 'Verified');
    assert.equal(d.hosts[0]?.connections[0]?.feature, 'dane');
  });

  test('C21: the same PKIX-EE(1) record is unusable for smtp:// (RFC 7672 §3.1.3) but usable for https://', async () => {
    const d = only(await json(`smtp://pkixmx.svc:${lab.mxPort}`));
    const rec = d.hosts[0]?.tlsa.records[0];
    assert.equal(d.hosts[0]?.tlsa.status, 'unusable');
    assert.equal(rec?.usable, false);
    assert.match(rec?.note ?? '', /not usable for SMTP/);
    const https = only(await json('--ca-file', caFile, `https://pkixee.svc:${lab.pkix.port}`));
    assert.equal(https.hosts[0]?.tlsa.records[0]?.usable, true);
  });

  test('text output: the same outline and summary line as the MX check; mixed targets in one run', async () => {
    const r = await check([...lab.args, `https://www.svc:${lab.www.port}`, `https://bad.svc:${lab.www.port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`https://www\\.svc:${lab.www.port}  PASS`));
    assert.match(r.stdout, /verdict: fail: Server certificate not verified/);
    assert.match(r.stdout, /2 domain\(s\): 1 pass, 0 degraded, 1 fail/);
  });

  test('usage errors exit 2: unknown scheme, IP literal, path', async () => {
    for (const bad of ['gopher://www.svc', 'https://127.0.0.1', 'https://www.svc/index.html']) {
      const r = await check([...lab.args, bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /dane-relay check: /);
    }
  });

  test('--file with URLs and domains is dispatched to the service runner', async () => {
    const list = join(dir, 'targets.txt');
    await writeFile(list, `# services\nhttps://www.svc:${lab.www.port}\nimap://mail.svc:${lab.imap.port}  # imap\n`);
    const r = await json('--file', list);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as CheckReport).summary.pass, 2);
  });
});
