/**
 * `dane-relay tlsa` end to end, in-process through the commander registration:
 * records checked against openssl, generate → match round trips, the rollover
 * warning, --connect against a STARTTLS smtp-server on 127.0.0.1, and --lookup
 * through the project DNS client against the lab resolver on 127.0.0.1.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, createIntermediateCa, issueLeaf, createSelfSigned, pemBundle, daysFromNow, type IssuedCert } from '../../src/lab/certs.ts';
import { startMxServer, type MxServer } from '../../src/lab/mx-server.ts';
import { startLabResolver, type LabResolver } from '../../src/lab/lab-resolver.ts';
import { registerTlsa } from '../../src/cli/tlsa.ts';
import { runCli } from '../tools/cli-harness.ts';

const tlsa = (argv: string[]) => runCli(registerTlsa, ['tlsa', ...argv]);

function openssl(script: string): string {
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  return (out.trim().split(/\s+/).pop() ?? '').toLowerCase();
}

interface Rec { usage: number; selector: number; matchingType: number; data: string; line: string; depth: number }
const records = (stdout: string): Rec[] => (JSON.parse(stdout) as { records: Rec[] }).records;
const asArg = (r: Rec): string => `${r.usage} ${r.selector} ${r.matchingType} ${r.data}`;
const flip = (hex: string): string => hex.slice(0, -1) + ((parseInt(hex.slice(-1), 16) + 1) % 16).toString(16);

describe('dane-relay tlsa (CLI)', () => {
  let dir = '';
  let leaf: IssuedCert; let inter: IssuedCert; let rsa: IssuedCert;
  const f = (name: string): string => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tlsa-cli-'));
    const root = await createRootCa('CLI Root');
    inter = await createIntermediateCa(root, 'CLI Issuing CA');
    leaf = await issueLeaf(inter, { dnsNames: ['mx.example.com'] });
    rsa = await createSelfSigned({ dnsNames: ['rsa.example.com'], keyType: 'rsa' });
    const soonInter = await createIntermediateCa(root, 'CLI Short CA', { notAfter: daysFromNow(5) });
    const soonLeaf = await issueLeaf(soonInter, { dnsNames: ['mx.example.com'] });
    await writeFile(f('chain.pem'), pemBundle([leaf, inter]));
    await writeFile(f('leaf.pem'), leaf.certPem);
    await writeFile(f('inter.pem'), inter.certPem);
    await writeFile(f('rsa.pem'), rsa.certPem);
    await writeFile(f('soon.pem'), pemBundle([soonLeaf, soonInter]));
    await writeFile(f('key.pem'), leaf.keyPem);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('C20: generated data equals openssl for 3 1 1, 3 0 1, 3 1 2, 3 0 2 (EC and RSA) and 2 1 1 for the CA', async () => {
    const cases: Array<[string, number, number, string]> = [
      ['1', 'pkey', 'sha256'], ['0', 'x509', 'sha256'], ['1', 'pkey', 'sha512'], ['0', 'x509', 'sha512'],
    ].flatMap(([sel, kind, alg]) => ['leaf.pem', 'rsa.pem'].map((file): [string, number, number, string] => {
      const cmd = kind === 'pkey'
        ? `openssl x509 -in ${f(file)} -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -${alg}`
        : `openssl x509 -in ${f(file)} -outform DER | openssl dgst -${alg}`;
      return [file, Number(sel), alg === 'sha256' ? 1 : 2, cmd];
    }));
    for (const [file, sel, mt, cmd] of cases) {
      const r = await tlsa(['generate', f(file), '--usage', '3', '--selector', String(sel), '--matching', String(mt), '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(records(r.stdout)[0]?.data, openssl(cmd), `${file} 3 ${sel} ${mt}`);
    }
    const ca = await tlsa(['generate', f('chain.pem'), '--usage', '2', '--json']);
    assert.equal(records(ca.stdout)[0]?.data, openssl(`openssl x509 -in ${f('inter.pem')} -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256`));
  });

  test('default output: ready-to-paste zone lines for 3 1 1 (leaf) and 2 1 1 (issuing CA)', async () => {
    const r = await tlsa(['generate', f('chain.pem')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => !l.startsWith(';') && l !== '');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^_25\._tcp\.mx\.example\.com\. IN TLSA 3 1 1 [0-9a-f]{64}$/);
    assert.match(lines[1] ?? '', /^_25\._tcp\.mx\.example\.com\. IN TLSA 2 1 1 [0-9a-f]{64}$/);
    assert.match(r.stdout, /^; DANE-EE\(3\) SPKI\(1\) SHA2-256\(1\) — leaf CN=mx\.example\.com/m);
  });

  test('C16/C22/C23: generate then match → exit 0; one hex digit changed → exit 1', async () => {
    const recs = records((await tlsa(['generate', f('chain.pem'), '--json'])).stdout);
    const ok = await tlsa(['match', f('chain.pem'), '--host', 'mx.example.com', ...recs.flatMap((r) => ['--record', asArg(r)])]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /MATCHES at depth 0 \(leaf CN=mx\.example\.com\)/);
    assert.match(ok.stdout, /MATCHES at depth 1 \(CA CN=CLI Issuing CA\)/);
    assert.match(ok.stdout, /Result: MATCH/);
    for (const r of recs) {
      const bad = await tlsa(['match', f('chain.pem'), '--host', 'mx.example.com', '--record', asArg({ ...r, data: flip(r.data) })]);
      assert.equal(bad.code, 1, `${asArg(r)} flipped`);
      assert.match(bad.stdout, /Result: NO MATCH/);
    }
    const zoneLine = await tlsa(['match', f('chain.pem'), '--record', recs[0]?.line ?? '', '--json']);
    assert.equal(zoneLine.code, 0);
    assert.equal(JSON.parse(zoneLine.stdout).verdict.matched.depth, 0);
  });

  test('rollover warning: only a 3 0 1, or only a 2 1 1 for a CA expiring within 30 days, matches', async () => {
    const full = await tlsa(['match', f('chain.pem'), '--host', 'mx.example.com', '--record', `3 0 1 ${openssl(`openssl x509 -in ${f('leaf.pem')} -outform DER | openssl dgst -sha256`)}`]);
    assert.equal(full.code, 0);
    assert.match(full.stderr, /warning: only soon-to-change records match.*every renewal/);
    const ta = records((await tlsa(['generate', f('soon.pem'), '--usage', '2', '--json'])).stdout)[0];
    assert.ok(ta);
    const soon = await tlsa(['match', f('soon.pem'), '--host', 'mx.example.com', '--record', asArg(ta)]);
    assert.equal(soon.code, 0);
    assert.match(soon.stderr, /warning: only soon-to-change records match.*CLI Short CA, which expires in [45] days/);
  });

  test('exit 2 on usage errors: no records, both sources, bad record, unknown option, missing file, PKIX usage', async () => {
    assert.equal((await tlsa(['match', f('chain.pem')])).code, 2);
    assert.equal((await tlsa(['match', f('chain.pem'), '--record', '3 1 1 00', '--lookup', 'mx.example.com'])).code, 2);
    assert.equal((await tlsa(['match', f('chain.pem'), '--record', '3 1 1 xyz'])).code, 2);
    assert.equal((await tlsa(['match', f('chain.pem'), '--frob'])).code, 2);
    assert.equal((await tlsa(['generate', f('missing.pem')])).code, 2);
    assert.equal((await tlsa(['generate', f('key.pem')])).code, 2);
    assert.equal((await tlsa(['generate', f('chain.pem'), '--usage', '1'])).code, 2);
    assert.equal((await tlsa(['generate', f('chain.pem'), '--usage', 'three'])).code, 2);
    assert.equal((await tlsa(['generate'])).code, 2);
    assert.equal((await tlsa([])).code, 2);
  });

  describe('--connect (STARTTLS smtp-server on 127.0.0.1)', () => {
    let mx: MxServer; let bare: MxServer;
    before(async () => {
      mx = await startMxServer({ host: '127.0.0.1', port: 0, mode: 'starttls', chain: [leaf, inter] });
      bare = await startMxServer({ host: '127.0.0.1', port: 0, mode: 'plaintext-only' });
    });
    after(async () => { await mx.close(); await bare.close(); });

    test('the live chain gives the same records as the file, with SNI = --host and no MAIL FROM', async () => {
      const live = await tlsa(['generate', '--connect', `127.0.0.1:${mx.port}`, '--starttls', 'smtp', '--host', 'mx.example.com', '--json']);
      assert.equal(live.code, 0, live.stderr);
      const file = await tlsa(['generate', f('chain.pem'), '--json']);
      assert.deepEqual(records(live.stdout), records(file.stdout));
      const s = mx.sessions().at(-1);
      assert.equal(s?.secure, true);
      assert.equal(s?.sni, 'mx.example.com');
      assert.equal(s?.mailFrom, false);
    });

    test('STARTTLS not offered, or nothing listening → exit 2 naming the stage', async () => {
      const r = await tlsa(['generate', '--connect', `127.0.0.1:${bare.port}`, '--starttls', 'smtp']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /starttls: TLS is required, but was not offered/);
      const closed = await tlsa(['generate', '--connect', '127.0.0.1:1', '--starttls', 'smtp', '--timeout', '3000']);
      assert.equal(closed.code, 2);
      assert.match(closed.stderr, /connect: /);
    });
  });

  describe('--lookup (project DNS client → lab resolver on 127.0.0.1)', () => {
    let dns: LabResolver;
    let spki = '';
    before(async () => {
      spki = openssl(`openssl x509 -in ${f('leaf.pem')} -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256`);
      const tlsaRr = (name: string, hex: string) => ({ name, type: 'TLSA' as const, data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from(hex, 'hex') } });
      dns = await startLabResolver({
        zones: [
          { origin: 'example.com', signed: true, records: [tlsaRr('_25._tcp.mx.example.com', spki), tlsaRr('_25._tcp.old.example.com', flip(spki)), { name: 'nodane.example.com', type: 'A', data: '127.0.0.2' }],
            servfail: [{ name: '_25._tcp.broken.example.com', type: 'TLSA' }] },
          { origin: 'plain.test', signed: false, records: [tlsaRr('_25._tcp.mx.plain.test', spki)] },
        ],
      });
    });
    after(async () => { await dns.close(); });
    const lookup = (host: string, extra: string[] = []) => tlsa(['match', f('chain.pem'), '--lookup', host, '--resolver', dns.address, ...extra]);

    test('C2: secure RRset that matches → 0; that does not → 1', async () => {
      const ok = await lookup('mx.example.com');
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /TLSA records at _25\._tcp\.mx\.example\.com/);
      assert.equal((await lookup('old.example.com')).code, 1);
    });

    test('C2: an insecure RRset is reported as ignored by the relay → 1', async () => {
      const r = await lookup('mx.plain.test', ['--json']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not DNSSEC-validated: the relay would ignore it/);
      assert.equal(JSON.parse(r.stdout).result, 'insecure');
    });

    test('C5: no TLSA published → 1; C4: lookup failure → 2; C12: --port names the owner', async () => {
      const none = await lookup('nodane.example.com');
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no TLSA records at _25\._tcp\.nodane\.example\.com/);
      const fail = await lookup('broken.example.com');
      assert.equal(fail.code, 2);
      assert.match(fail.stderr, /failed .*would not use this host at all/);
      assert.equal((await lookup('mx.example.com', ['--port', '587'])).code, 1);
      assert.equal((await tlsa(['match', f('chain.pem'), '--lookup', 'mx.example.com', '--resolver', 'not-an-ip'])).code, 2);
    });
  });
});
