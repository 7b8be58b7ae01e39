/**
 * Tier 2, end to end with real components: Postfix (submission MTA) →
 * `relayhost = [127.0.0.1]:2525` → dane-relay (`bin/dane-relay.js serve`) →
 * lab MX servers on 127.0.0.x:25, with DNS answered by a real validating
 * Unbound over zones signed by ldns-signzone and served by NSD — all inside a
 * network namespace made by test/interop/netns-lab.sh. The key scenarios give
 * the tier-1 outcomes: verified (C22), mismatch (C16), stripped STARTTLS
 * (C14), bogus TLSA (C4), insecure zone (C2, opportunistic TLS), bogus MX
 * zone (C3).
 *
 * Needs root, ip, nsd, unbound, ldnsutils and postfix: when missing the suite
 * FAILS with the list (CI installs them with scripts/system-deps.sh).
 */
import { acquirePostfixLock } from '../fixtures/postfix-lock.ts';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import { startNsAgent, type MxState, type NsAgent } from '../../src/lab/interop/agent-client.ts';
import { interopPrerequisites, startNetnsLab, type NetnsLab } from '../../src/lab/interop/netns-lab.ts';
import { writePostfixInstance, type PostfixInstance } from '../../src/lab/interop/postfix.ts';
import { readJsonLines, relayConfigYaml, waitForListener, waitUntil } from '../../src/lab/interop/helpers.ts';
import { goodTestRecords, SCENARIOS } from '../../src/lab/interop/tier2-scenarios.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RELAY = { host: '127.0.0.1', port: 2525 };
const POSTFIX_PORT = 10025;

interface DeliveryLine { event?: string; rcpt?: string; status?: string; dsn?: string; tls?: { state?: string } }

describe('tier 2: Postfix → dane-relay → MX, real Unbound/NSD, in a network namespace', () => {
  let lab: NetnsLab | undefined;
  let agent: NsAgent | undefined;
  let postfix: PostfixInstance | undefined;
  let relayLog = '';
  const certs: Record<'A' | 'B', IssuedCert | undefined> = { A: undefined, B: undefined };
  let deliveries: DeliveryLine[] = [];
  let mx: Record<string, MxState> = {};
  let postfixLog = '';
  /** A set-up failure fails every test with its message (counted as failures, not cancellations). */
  let setupError: unknown;

  let releaseLock: (() => void) | undefined;
  before(async () => { try { releaseLock = await acquirePostfixLock(); await setUp(); } catch (e) { setupError = e; } });

  async function setUp(): Promise<void> {
    const missing = interopPrerequisites(['postfix']);
    if (missing.length > 0) throw new Error(`tier-2 interop prerequisites missing: ${missing.join('; ')} — run as root after scripts/system-deps.sh`);
    certs.A = await createSelfSigned({ dnsNames: ['mx.lab-a.test'] });
    certs.B = await createSelfSigned({ dnsNames: ['mx.lab-b.test'] });
    lab = await startNetnsLab({ extraRecords: { 'good.test': goodTestRecords(certs.A) } });
    agent = await startNsAgent(lab);
    for (const s of SCENARIOS) {
      const c = certs[s.server.cert]!;
      await agent.send({ op: 'startMx', label: s.server.label, host: s.server.host, port: 25, mode: s.server.mode, certPem: c.certPem, keyPem: c.keyPem, certName: c.name });
    }
    await startRelay(lab);
    postfix = await startPostfix(lab);
    for (const s of SCENARIOS) {
      const r = await agent.send({ op: 'submit', host: '127.0.0.1', port: POSTFIX_PORT, from: 'sender@lab.test', to: [s.rcpt], subject: `tier2 ${s.server.label}`, text: `scenario ${s.name}\n` });
      assert.match(String(r.response), /^250 /, `Postfix did not accept ${s.rcpt}: ${JSON.stringify(r)}`);
    }
    await collectOutcomes(agent, postfix);
  }

  /** Bounded wait (60 s) for one delivery outcome per recipient in the relay's log, then a snapshot of the MX servers. */
  async function collectOutcomes(a: NsAgent, pf: PostfixInstance): Promise<void> {
    const done = await waitUntil(60_000, async () => {
      deliveries = (await readJsonLines(relayLog) as DeliveryLine[]).filter((l) => l.event === 'delivery');
      return SCENARIOS.every((s) => deliveries.some((d) => d.rcpt === s.rcpt));
    });
    mx = await a.state();
    postfixLog = await readFile(pf.logFile, 'utf8').catch(() => '');
    assert.ok(done, `not every recipient got a delivery outcome within 60 s; relay log:\n${await readFile(relayLog, 'utf8').catch(() => '(none)')}\npostfix log:\n${postfixLog}`);
  }

  async function startPostfix(l: NetnsLab): Promise<PostfixInstance> {
    const pf = await writePostfixInstance({ baseDir: join(l.dir, 'postfix'), smtpdPort: POSTFIX_PORT, relayhost: RELAY });
    postfix = pf; // stopped in after() even if start-up fails half-way
    const [cmd, ...args] = pf.startCommand;
    const started = await l.run(cmd!, args, { timeoutMs: 30_000 });
    assert.equal(started.code, 0, `postfix start failed: ${started.stderr}\n${await readFile(pf.logFile, 'utf8').catch(() => '')}`);
    await waitForListener(l, '127.0.0.1', POSTFIX_PORT, 10_000);
    return pf;
  }

  async function startRelay(l: NetnsLab): Promise<void> {
    const dir = join(l.dir, 'relay');
    await mkdir(dir, { recursive: true });
    relayLog = join(dir, 'relay.log');
    const config = join(dir, 'relay.yaml');
    await writeFile(config, relayConfigYaml({ listen: RELAY, spool: join(dir, 'spool'), logFile: relayLog }));
    const child = l.spawnInNs(process.execPath, ['bin/dane-relay.js', 'serve', '--config', config], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    await waitForListener(l, RELAY.host, RELAY.port, 20_000, () => child.exitCode !== null)
      .catch((e: Error) => { throw new Error(`${e.message}; dane-relay output:\n${output}`); });
  }

  after(async () => {
    if (lab && postfix) {
      const [cmd, ...args] = postfix.stopCommand;
      await lab.run(cmd!, args, { timeoutMs: 30_000 });
    }
    await agent?.close();
    await lab?.down(); // kills the relay (tracked) and anything left in the namespace, by PID
    releaseLock?.();
  });

  for (const s of SCENARIOS) {
    test(`${s.rule}: ${s.name}`, () => {
      if (setupError) throw setupError;
      // The relay may log more than one delivery line per outcome (delivery + queue outcome): all must agree.
      const ds = deliveries.filter((x) => x.rcpt === s.rcpt);
      assert.ok(ds.length > 0, `no delivery event for ${s.rcpt}`);
      for (const d of ds) {
        assert.equal(d.status, s.expect.status, JSON.stringify(d));
        assert.ok(d.dsn?.startsWith(s.expect.dsn), `dsn ${d.dsn} should start with ${s.expect.dsn}: ${JSON.stringify(d)}`);
      }
      const d = ds.find((x) => x.tls !== undefined);
      const server = mx[s.server.label];
      assert.ok(server, `MX ${s.server.label} state missing`);
      const got = server.messages.filter((m) => m.to.includes(s.rcpt));
      if (s.expect.status === 'sent') {
        assert.equal(got.length, 1, `MX ${s.server.label} should hold the message once`);
        const m = got[0]!;
        assert.equal(m.secure, true, 'delivered over TLS');
        assert.equal(m.certificate?.sha256, createHash('sha256').update(certs[s.server.cert]!.der).digest('hex'));
        assert.match(m.data, /by postfix\.lab\.test \(Postfix\)/, 'went through Postfix');
        if (s.expect.sni) assert.equal(m.sni, s.expect.sni, 'C17: SNI is the TLSA base domain');
        assert.ok(d, `no delivery event with TLS details for ${s.rcpt}`);
        if (s.expect.verified) assert.equal(d.tls?.state, 'Verified');
        else assert.ok(d.tls?.state !== 'Verified' && d.tls?.state !== 'Trusted', `insecure zone must not be authenticated: ${JSON.stringify(d)}`);
      } else {
        assert.equal(got.length, 0, `MX ${s.server.label} must not receive the message`);
        assert.ok(server.sessions.every((x) => !x.mailFrom), 'no MAIL FROM ever reached this MX');
      }
    });
  }

  test('Postfix hands every message to dane-relay via relayhost (status=sent, relay=127.0.0.1:2525)', () => {
    if (setupError) throw setupError;
    for (const s of SCENARIOS) {
      const line = postfixLog.split('\n').find((l) => l.includes(`to=<${s.rcpt}>`) && l.includes('status=sent'));
      assert.ok(line, `no status=sent for ${s.rcpt} in the Postfix log`);
      assert.match(line, /relay=127\.0\.0\.1\[127\.0\.0\.1\]:2525/);
    }
  });

  test('C4: a host whose TLSA lookup is bogus is not even connected to', () => {
    if (setupError) throw setupError;
    assert.deepEqual(mx.badtlsa?.sessions ?? [], []);
  });
});
