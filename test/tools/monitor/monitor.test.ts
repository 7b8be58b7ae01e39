/**
 * `dane-relay monitor` end to end on loopback (service lab: lab resolver,
 * TLS servers, a lab MX as the alert mail sink): changes only, state file,
 * alerts by command, mail and textfile, staged certificate, certificate
 * expiry, an alert that fails keeps the state (nothing lost).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorPass, runMonitor, type MonitorOptions } from '../../../src/tools/monitor/run.ts';
import { createSelfSigned, issueLeaf } from '../../../src/lab/certs.ts';
import { startMxServer, type MxServer } from '../../../src/lab/mx-server.ts';
import { tlsaDataFor } from '../../../src/core/tlsa.ts';
import type { LabRecord } from '../../../src/lab/lab-resolver.ts';
import { flip, startServiceLab, type ServiceLab } from '../service/fixture.ts';

interface Run { code: number; stdout: string; stderr: string }

describe('dane-relay monitor', () => {
  let lab: ServiceLab;
  let sink: MxServer;
  let dir = '';
  before(async () => {
    lab = await startServiceLab();
    sink = await startMxServer({ host: '127.0.0.25', port: 0, mode: 'plaintext-only' });
    dir = await mkdtemp(join(tmpdir(), 'monitor-'));
  });
  after(async () => {
    await sink?.close();
    await lab?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const www = (): string => `https://www.svc:${lab.www.port}`;
  const opts = (o: Partial<MonitorOptions>): MonitorOptions => ({
    targets: [www()], state: join(dir, 'state.json'), thresholds: { certDays: 14, rrsigDays: 3 }, nextCerts: [], concurrency: 2,
    resolvers: [lab.resolver.address], timeoutSeconds: 5, ...o,
  });
  async function pass(o: Partial<MonitorOptions>): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await monitorPass(opts(o), { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
    return { code, stdout, stderr };
  }
  const setWwwRecord = (data: Uint8Array): void => {
    const records = lab.zone.records.map((r): LabRecord => (r.name === `_${lab.www.port}._tcp.www.svc`
      ? { ...r, data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from(data) } } : r));
    lab.resolver.setZones([{ ...lab.zone, records }]);
  };

  test('changes only: a first pass that passes is silent, a broken TLSA is reported once, alerts by command and mail, textfile written', async () => {
    const state = join(dir, 'a.json');
    const alertFile = join(dir, 'alert.txt');
    const textfile = join(dir, 'dane.prom');
    const alerts = { state, exec: `cat > ${alertFile}; echo "n=$DANE_MONITOR_CHANGES worst=$DANE_MONITOR_WORST" >> ${alertFile}`, textfile, mail: { host: sink.host, port: sink.port, from: 'monitor@lab.test', to: ['ops@lab.test'] } };
    const first = await pass(alerts);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '');
    assert.match(await readFile(textfile, 'utf8'), new RegExp(`dane_relay_monitor_verdict\\{target="${www().replace(/[/.]/g, '\\$&')}"\\} 0`));
    assert.equal(sink.messages().length, 0);

    setWwwRecord(flip(tlsaDataFor(lab.wwwLeaf.der, 1, 1)));
    const broken = await pass(alerts);
    assert.equal(broken.code, 1);
    assert.equal(broken.stdout, `${www()}: PASS -> FAIL: Server certificate not verified (www.svc[127.0.0.21]:${lab.www.port})\n`);
    assert.equal(await readFile(alertFile, 'utf8'), `${broken.stdout}n=1 worst=fail\n`);
    assert.equal(sink.messages().length, 1);
    assert.match(sink.messages()[0]?.data ?? '', /PASS -> FAIL/);
    assert.match(await readFile(textfile, 'utf8'), /dane_relay_monitor_verdict\{target="[^"]+"\} 2/);

    const again = await pass(alerts);
    assert.equal(again.code, 1);
    assert.equal(again.stdout, '', 'the same failure is not reported twice');
    assert.equal(sink.messages().length, 1);

    setWwwRecord(tlsaDataFor(lab.wwwLeaf.der, 1, 1));
    const fixed = await pass(alerts);
    assert.equal(fixed.code, 0);
    assert.match(fixed.stdout, /FAIL -> PASS/);
  });

  test('an alert that fails leaves the state file as it was: the change is reported again next time', async () => {
    const state = join(dir, 'b.json');
    assert.equal((await pass({ state })).code, 0);
    const before = await readFile(state, 'utf8');
    setWwwRecord(flip(tlsaDataFor(lab.wwwLeaf.der, 1, 1)));
    try {
      const failed = await pass({ state, exec: 'exit 3' });
      assert.equal(failed.code, 2);
      assert.match(failed.stderr, /alert command exited 3/);
      assert.equal(await readFile(state, 'utf8'), before);
      const retry = await pass({ state });
      assert.match(retry.stdout, /PASS -> FAIL/);
    } finally {
      setWwwRecord(tlsaDataFor(lab.wwwLeaf.der, 1, 1));
    }
  });

  test('a state file that does not parse is an error (exit 2) and is not overwritten', async () => {
    const state = join(dir, 'c.json');
    await writeFile(state, '{ not json');
    const r = await pass({ state });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not JSON/);
    assert.equal(await readFile(state, 'utf8'), '{ not json');
  });

  test('warnings ahead of time: certificate expiring within --cert-days; staged next certificate with a new key does not match, one with the same key does', async () => {
    const state = join(dir, 'd.json');
    const r = await pass({ state, thresholds: { certDays: 120, rrsigDays: 3 } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /WARNING cert-expiry: certificate of www\.svc\[127\.0\.0\.21\]:\d+ expires in (89|90) day/);
    const newKey = await createSelfSigned({ dnsNames: ['www.svc'] });
    const sameKey = await issueLeaf(lab.wwwLeaf.issuer!, { dnsNames: ['www.svc'], keys: lab.wwwLeaf.keys });
    await writeFile(join(dir, 'new-key.pem'), newKey.certPem);
    await writeFile(join(dir, 'same-key.pem'), sameKey.certPem);
    const staged = await pass({ state: join(dir, 'e.json'), nextCerts: [`${www()}=${join(dir, 'new-key.pem')}`] });
    assert.equal(staged.code, 1);
    assert.match(staged.stdout, /WARNING staged-mismatch: staged certificate .*new-key\.pem would not match the published TLSA/);
    const ok = await pass({ state: join(dir, 'f.json'), nextCerts: [`https://www.svc:${lab.www.port}/=${join(dir, 'same-key.pem')}`] });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });

  test('--interval repeats until the signal aborts; --json prints changes and observations', async () => {
    const abort = new AbortController();
    let passes = 0;
    const code = await runMonitor(opts({ state: join(dir, 'g.json'), intervalSeconds: 3600, json: true }), {
      stdout: (s) => { passes++; assert.equal(JSON.parse(s).observations.length, 1); if (passes === 1) abort.abort(); },
      stderr: () => undefined, signal: abort.signal,
    });
    assert.equal(code, 0);
    assert.equal(passes, 1);
    const two = await runMonitor(opts({ state: join(dir, 'h.json'), intervalSeconds: 10, runs: 2 }), { stdout: () => { passes++; }, stderr: () => undefined, signal: AbortSignal.abort() });
    assert.equal(two, 0);
  });
});
