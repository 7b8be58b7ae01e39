/**
 * Tier 2: `dane-relay report` audits a real Postfix's maillog. A private
 * Postfix instance delivers by MX itself with `smtp_tls_security_level =
 * dane` (no relay in between) to the tier-2 scenario MX servers, over the real
 * NSD + validating Unbound lab in a network namespace; then the report of its
 * maillog must give, per recipient domain, the TLS state the MX servers
 * actually saw (Verified for the matching TLSA, not authenticated for the
 * unsigned zone, nothing delivered where DANE refused), and the refusal
 * causes Postfix logged (issue: report over any Postfix's maillog).
 *
 * Needs root, ip, nsd, unbound, ldnsutils and postfix (scripts/system-deps.sh).
 */
import { acquirePostfixLock } from '../fixtures/postfix-lock.ts';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import { startNsAgent, type MxState, type NsAgent } from '../../src/lab/interop/agent-client.ts';
import { interopPrerequisites, startNetnsLab, type NetnsLab } from '../../src/lab/interop/netns-lab.ts';
import { writePostfixInstance, type PostfixInstance } from '../../src/lab/interop/postfix.ts';
import { waitForListener, waitUntil } from '../../src/lab/interop/helpers.ts';
import { goodTestRecords, SCENARIOS } from '../../src/lab/interop/tier2-scenarios.ts';
import { summariseText } from '../tools/report/fixture.ts';
import type { ReportData } from '../../src/tools/report/summary.ts';

const POSTFIX_PORT = 10026;
const domainOf = (rcpt: string): string => rcpt.slice(rcpt.indexOf('@') + 1);

describe('tier 2: report over the maillog of a real Postfix delivering with DANE', () => {
  let lab: NetnsLab | undefined;
  let agent: NsAgent | undefined;
  let postfix: PostfixInstance | undefined;
  let resolvConfDir: string | undefined;
  let mx: Record<string, MxState> = {};
  let maillog = '';
  let report: ReportData | undefined;
  let setupError: unknown;

  let releaseLock: (() => void) | undefined;
  before(async () => { try { releaseLock = await acquirePostfixLock(); await setUp(); } catch (e) { setupError = e; } });

  async function setUp(): Promise<void> {
    const missing = interopPrerequisites(['postfix']);
    if (missing.length > 0) throw new Error(`tier-2 interop prerequisites missing: ${missing.join('; ')} — run as root after scripts/system-deps.sh`);
    const certs: Record<'A' | 'B', IssuedCert> = { A: await createSelfSigned({ dnsNames: ['mx.lab-a.test'] }), B: await createSelfSigned({ dnsNames: ['mx.lab-b.test'] }) };
    lab = await startNetnsLab({ extraRecords: { 'good.test': goodTestRecords(certs.A) } });
    // `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf: Postfix asks the lab's
    // validating Unbound and, with trust-ad, glibc passes its AD bit on (smtp_dns_support_level = dnssec).
    resolvConfDir = join('/etc/netns', lab.ns);
    await mkdir(resolvConfDir, { recursive: true });
    await writeFile(join(resolvConfDir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions trust-ad\n');
    agent = await startNsAgent(lab);
    for (const s of SCENARIOS) {
      const c = certs[s.server.cert];
      await agent.send({ op: 'startMx', label: s.server.label, host: s.server.host, port: 25, mode: s.server.mode, certPem: c.certPem, keyPem: c.keyPem, certName: c.name });
    }
    postfix = await writePostfixInstance({ baseDir: join(lab.dir, 'postfix-direct'), smtpdPort: POSTFIX_PORT });
    const [cmd, ...args] = postfix.startCommand;
    const started = await lab.run(cmd!, args, { timeoutMs: 30_000 });
    assert.equal(started.code, 0, `postfix start failed: ${started.stderr}`);
    await waitForListener(lab, '127.0.0.1', POSTFIX_PORT, 10_000);
    for (const s of SCENARIOS) {
      const r = await agent.send({ op: 'submit', host: '127.0.0.1', port: POSTFIX_PORT, from: 'sender@lab.test', to: [s.rcpt], subject: `tier2 ${s.server.label}`, text: `scenario ${s.name}\n` });
      assert.match(String(r.response), /^250 /, `Postfix did not accept ${s.rcpt}`);
    }
    const pf = postfix;
    const done = await waitUntil(60_000, async () => {
      maillog = await readFile(pf.logFile, 'utf8').catch(() => '');
      return SCENARIOS.every((s) => new RegExp(`to=<${s.rcpt}>.*status=(sent|deferred|bounced)`).test(maillog));
    });
    mx = await agent.state();
    assert.ok(done, `not every recipient got a status line within 60 s; Postfix log:\n${maillog}`);
    report = summariseText(maillog);
  }

  after(async () => {
    if (lab && postfix) {
      const [cmd, ...args] = postfix.stopCommand;
      await lab.run(cmd!, args, { timeoutMs: 30_000 });
    }
    await agent?.close();
    await lab?.down();
    if (resolvConfDir) await rm(resolvConfDir, { recursive: true, force: true });
    releaseLock?.();
  });

  for (const s of SCENARIOS) {
    test(`${s.rule}: ${s.rcpt}: the report's TLS state and status are what the MX server saw`, () => {
      if (setupError) throw setupError;
      const row = report?.domains.top.find((r) => r.domain === domainOf(s.rcpt));
      assert.ok(row, `no report row for ${domainOf(s.rcpt)}`);
      const got = mx[s.server.label]?.messages.filter((m) => m.to.includes(s.rcpt)) ?? [];
      if (s.expect.status === 'sent') {
        assert.equal(got.length, 1, 'the MX server holds the message');
        assert.equal(row.status.sent, 1);
        assert.equal(got[0]?.secure, true, 'the MX saw TLS');
        const expected = s.expect.verified ? 'Verified' : 'Untrusted';
        assert.equal(row.tls[expected], 1, `report says ${JSON.stringify(row.tls)}; expected ${expected}`);
      } else {
        assert.equal(got.length, 0, 'DANE refused: the MX server never got the message');
        assert.equal(row.status.sent, 0);
        assert.ok(row.status.deferred >= 1, JSON.stringify(row.status));
      }
    });
  }

  test('refusal causes from Postfix\'s own wording: TLSA mismatch, STARTTLS missing, TLSA lookup error, DNS failure', () => {
    if (setupError) throw setupError;
    const causes = new Set(report?.refusals.map((r) => r.cause));
    for (const c of ['tlsa_mismatch', 'starttls_missing', 'tlsa_lookup_failure', 'dns_failure']) assert.ok(causes.has(c as never), `${c} missing from ${[...causes].join(', ')}\n${maillog}`);
    assert.equal(report?.tls.deliveries.none, 0, 'nothing went in plaintext');
    assert.ok((report?.tls.sessions.Verified ?? 0) >= 1);
  });
});
