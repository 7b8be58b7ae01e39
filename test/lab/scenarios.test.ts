import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { allScenarios, findScenario } from '../../src/lab/scenarios.ts';
import { createLabPki, flipOneHexDigit, tlsaData, impostorChain } from '../../src/lab/lab-pki.ts';
import type { LabPki } from '../../src/lab/lab-pki.ts';
import { createScenarioContext } from '../../src/lab/scenario-context.ts';
import { planAddresses } from '../../src/lab/lab-servers.ts';
import { ATTACK_MODES } from '../../src/lab/attacker-proxy.ts';
import { formatTable, toJsonReport } from '../../src/lab/report-table.ts';
import { judge } from '../../src/lab/judge.ts';

describe('scenario matrix definition', () => {
  const all = allScenarios();

  test('at least 25 scenarios, unique names, each names checklist rules (or the RFC section it proves outside the DANE checklist, e.g. RFC8461-4.2, RFC8689)', () => {
    assert.ok(all.length >= 25, `${all.length} scenarios`);
    assert.equal(new Set(all.map((s) => s.name)).size, all.length);
    for (const s of all) {
      assert.match(s.name, /^s\d{2}-[a-z0-9-]+$/);
      assert.match(s.rule, /^(C\d+|RFC\d+(-[\d.]+)?)( (C\d+|RFC\d+(-[\d.]+)?))*$/, s.name);
      assert.ok(s.description.length > 10);
    }
  });

  test('every attacker mode except passthrough runs against a host with usable TLSA', () => {
    const modes = new Set(all.filter((s) => s.attacker).map((s) => s.attacker!.mode));
    for (const m of ATTACK_MODES.filter((m) => m !== 'passthrough')) assert.ok(modes.has(m), m);
  });

  test('C8: every insecure-MX policy has a scenario', () => {
    const policies = new Set(all.map((s) => s.insecureMxPolicy).filter(Boolean));
    assert.deepEqual([...policies].sort(), ['dane', 'encrypt', 'may']);
  });

  test('C16: no scenario expects a bounce for a verification failure', () => {
    for (const s of all.filter((x) => x.expect.dsn === '4.7.5')) assert.equal(s.expect.status, 'deferred');
  });

  test('findScenario by full name, short name and number', () => {
    const first = all[0]!;
    assert.equal(findScenario(first.name)?.name, first.name);
    assert.equal(findScenario(first.name.slice(4))?.name, first.name);
    assert.equal(findScenario('1')?.name, first.name);
    assert.equal(findScenario('s01')?.name, first.name);
    assert.equal(findScenario('no-such-case'), undefined);
  });

  test('address plan: distinct 127.0.0.x per server and attacker', () => {
    const plan = planAddresses(all);
    const addrs = [...plan.values()].flatMap((m) => [...m.values()]);
    assert.equal(new Set(addrs).size, addrs.length);
    for (const a of addrs) assert.match(a, /^127\.0\.0\.\d+$/);
    assert.ok(!addrs.includes('127.0.0.1'));
  });
});

describe('lab PKI and scenario builds', () => {
  let pki: LabPki;
  before(async () => { pki = await createLabPki(); });

  test('C20: TLSA association data per selector and matching type', () => {
    const cert = pki.publicRoot;
    const spki = cert.x509.publicKey.export({ type: 'spki', format: 'der' });
    assert.deepEqual(tlsaData(cert, 0, 0), cert.der);
    assert.deepEqual(tlsaData(cert, 1, 0), spki);
    assert.deepEqual(tlsaData(cert, 1, 1), createHash('sha256').update(spki).digest());
    assert.equal(tlsaData(cert, 0, 2).length, 64);
  });

  test('flipOneHexDigit changes exactly one hex digit', () => {
    const a = tlsaData(pki.daneRoot, 1, 1).toString('hex');
    const b = flipOneHexDigit(tlsaData(pki.daneRoot, 1, 1)).toString('hex');
    assert.equal([...a].filter((c, i) => c !== b[i]).length, 1);
  });

  test('the impostor chain is PKIX-valid for the name under the lab public CA only', async () => {
    const [leaf, inter] = await impostorChain(pki, 'mx1.example.lab.test');
    assert.equal(leaf!.x509.checkHost('mx1.example.lab.test'), 'mx1.example.lab.test');
    assert.ok(leaf!.x509.verify(inter!.x509.publicKey));
    assert.ok(inter!.x509.verify(pki.publicRoot.x509.publicKey));
    assert.ok(!inter!.x509.verify(pki.daneRoot.x509.publicKey));
  });

  test('every scenario builds: zones under its own domain, TLSA owners carry the port (C12), chains for TLS servers', async () => {
    const all = allScenarios();
    const plan = planAddresses(all);
    for (const s of all) {
      const ctx = createScenarioContext(s, 2525, pki, plan.get(s.name)!, { host: '127.0.0.1', port: 8443 });
      const b = await s.build(ctx);
      for (const z of b.zones) assert.ok(z.origin.endsWith('.lab.test'), `${s.name}: ${z.origin}`);
      const tlsa = b.zones.flatMap((z) => z.records).filter((r) => r.type === 'TLSA');
      for (const r of tlsa) assert.match(r.name, /^_2525\._tcp\./, s.name);
      for (const d of s.servers) if (d.mode !== 'plaintext-only') assert.ok(b.chains[d.label]?.length, `${s.name}/${d.label} chain`);
      if (s.attacker) {
        const a = b.zones.flatMap((z) => z.records).find((r) => r.type === 'A' && r.data === plan.get(s.name)!.get('attacker'));
        assert.ok(a, `${s.name}: the A record points at the attacker`);
      }
    }
  });
});

describe('report table', () => {
  test('table has the four columns, one row per scenario and the failure reasons', () => {
    const s = allScenarios()[0]!;
    const pass = judge(s, { outcome: { status: 'sent', dsn: '2.0.0', tlsState: 'Verified' }, deliveries: [{ label: 'mx1', address: '127.0.0.2', secure: true, sni: `mx1.${s.name}.lab.test`, certificate: null }], injectionLogged: false });
    const fail = { ...judge(s, { deliveries: [], injectionLogged: false }), name: 's02-x' };
    const text = formatTable([pass, fail]);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^scenario\s+\| expected\s+\| observed\s+\| result$/);
    assert.match(text, /\| PASS\n/);
    assert.match(text, /\| FAIL\n/);
    assert.match(text, /no delivery outcome/);
    assert.match(text, /1\/2 scenarios passed, 1 failed/);
    const json = toJsonReport([pass, fail]);
    assert.equal(json.pass, false);
    assert.equal(json.failed, 1);
  });
});
