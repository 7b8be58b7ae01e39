/**
 * tlsa rollover: the steps' safety (no step leaves the running certificate
 * unmatched), the nsupdate script, the UPDATE message and TSIG (RFC 8945)
 * signing/verification, key parsing, and the command end to end on the lab
 * resolver (plan, published RRset read through the relay's DNS client,
 * lookup failure refused per C1). The live exchange with BIND is
 * test/interop/bind-rollover.test.ts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { createSelfSigned, type IssuedCert } from '../../../src/lab/certs.ts';
import { tlsaDataFor } from '../../../src/core/tlsa.ts';
import { startLabResolver, type LabResolver } from '../../../src/lab/lab-resolver.ts';
import { publishStep, recordFor, retireStep, type Subject } from '../../../src/tools/tlsa/rollover.ts';
import { encodeUpdate, renderNsupdate, type TlsaUpdate } from '../../../src/tools/tlsa/nsupdate.ts';
import { parseKeyFile, parseKeySpec, signMessage, verifyResponse } from '../../../src/tools/tlsa/tsig.ts';
import { runRollover, type RolloverOptions } from '../../../src/tools/tlsa/rollover-run.ts';

let a: IssuedCert; let b: IssuedCert;
const cert = (c: IssuedCert, label: string): Extract<Subject, { kind: 'cert' }> => ({ kind: 'cert', der: c.der, x509: c.x509, label });
const P = { selector: 1 as const, matchingType: 1 as const };
const now = new Date();

before(async () => {
  a = await createSelfSigned({ dnsNames: ['mx.example.test'] });
  b = await createSelfSigned({ dnsNames: ['mx.example.test'] });
});

test('RFC 7671 §8.1 publish: current + next added once; the running certificate matches the result', () => {
  const ra = recordFor(cert(a, 'A'), P);
  const r = publishStep([ra], cert(a, 'A'), cert(b, 'B'), P, now);
  assert.equal(r.kind, 'ok');
  assert.deepEqual(r.kind === 'ok' && r.ops.map((o) => o.op), ['add']);
  assert.equal(r.kind === 'ok' && r.after.length, 2);
  const fromKey = publishStep([], cert(a, 'A'), { kind: 'key', spki: b.x509.publicKey.export({ type: 'spki', format: 'der' }), label: 'B key' }, P, now);
  assert.deepEqual(fromKey.kind === 'ok' && fromKey.after.map((x) => Buffer.from(x.data).toString('hex')), [a, b].map((c) => Buffer.from(tlsaDataFor(c.der, 1, 1)).toString('hex')));
});

test('retire: refused while the running certificate would be left unmatched; refused when old = running key; else one delete', () => {
  const ra = recordFor(cert(a, 'A'), P);
  const rb = recordFor(cert(b, 'B'), P);
  const early = retireStep([ra, rb], cert(a, 'A'), cert(a, 'A'), P, now);
  assert.equal(early.kind, 'refused');
  assert.match(early.kind === 'refused' ? early.message : '', /same key/);
  const unmatched = retireStep([ra], cert(b, 'B'), cert(a, 'A'), P, now);
  assert.equal(unmatched.kind, 'refused', 'B running but its record is not published: retiring A leaves B unmatched');
  assert.match(unmatched.kind === 'refused' ? unmatched.message : '', /would match no record left/);
  const ok = retireStep([ra, rb], cert(b, 'B'), cert(a, 'A'), P, now);
  assert.deepEqual(ok.kind === 'ok' && ok.ops, [{ op: 'delete', record: ra }]);
});

test('RFC 2136: nsupdate script and UPDATE message (opcode 5, zone SOA, add IN with TTL, delete class NONE TTL 0)', () => {
  const ra = recordFor(cert(a, 'A'), P);
  const u: TlsaUpdate = { zone: 'example.test', owner: '_25._tcp.mx.example.test', ttl: 300, ops: [{ op: 'add', record: ra }, { op: 'delete', record: ra }] };
  const hex = Buffer.from(ra.data).toString('hex');
  assert.equal(renderNsupdate(u, { host: '192.0.2.53', port: 53 }), `server 192.0.2.53 53\nzone example.test.\nupdate add _25._tcp.mx.example.test. 300 IN TLSA 3 1 1 ${hex}\nupdate delete _25._tcp.mx.example.test. IN TLSA 3 1 1 ${hex}\nsend\n`);
  const msg = encodeUpdate(u, 0x1234);
  assert.equal(msg.readUInt16BE(0), 0x1234);
  assert.equal((msg.readUInt16BE(2) >> 11) & 0xf, 5);
  assert.deepEqual([4, 6, 8, 10].map((o) => msg.readUInt16BE(o)), [1, 0, 2, 0]);
  const zoneEnd = 12 + 'example.test'.length + 2 + 4;
  assert.equal(msg.readUInt16BE(zoneEnd - 4), 6, 'zone section type SOA');
  const rrLen = (msg.length - zoneEnd) / 2;
  const del = msg.subarray(zoneEnd + rrLen);
  const nameLen = '_25._tcp.mx.example.test'.length + 2;
  assert.equal(del.readUInt16BE(nameLen + 2), 254, 'delete: class NONE');
  assert.equal(del.readUInt32BE(nameLen + 4), 0, 'delete: TTL 0');
});

test('RFC 8945: the TSIG on a request verifies with the same key (HMAC-SHA256 over message + variables); a response MAC is checked', () => {
  const key = parseKeySpec(`hmac-sha256:k.example:${Buffer.alloc(32, 9).toString('base64')}`);
  const msg = encodeUpdate({ zone: 'example.test', owner: '_25._tcp.mx.example.test', ttl: 1, ops: [] }, 7);
  const { signed, mac } = signMessage(msg, key, now);
  assert.equal(signed.readUInt16BE(10), 1, 'arcount + 1');
  const decoded = dnsPacket.decode(signed);
  assert.equal(decoded.additionals?.[0]?.type, 'TSIG' as never);
  // A "server" answer signed over request MAC + response + variables, built with verifyResponse's own framing.
  const resp = Buffer.from(msg);
  resp.writeUInt16BE(0x8000 | (5 << 11), 2);
  const t = Math.floor(now.getTime() / 1000);
  const vars = Buffer.concat([Buffer.from('016b076578616d706c6500', 'hex'), Buffer.from([0, 255, 0, 0, 0, 0]), Buffer.from('0b686d61632d73686132353600', 'hex'), Buffer.from([0, 0, t >>> 24, (t >>> 16) & 255, (t >>> 8) & 255, t & 255, 1, 44, 0, 0, 0, 0])]);
  const rmac = createHmac('sha256', key.secret).update(Buffer.from([0, 32])).update(mac).update(resp).update(vars).digest();
  const rdata = Buffer.concat([Buffer.from('0b686d61632d73686132353600', 'hex'), Buffer.from([0, 0, t >>> 24, (t >>> 16) & 255, (t >>> 8) & 255, t & 255, 1, 44, 0, 32]), rmac, resp.subarray(0, 2), Buffer.from([0, 0, 0, 0])]);
  const rr = Buffer.concat([Buffer.from('016b076578616d706c6500', 'hex'), Buffer.from([0, 250, 0, 255, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 255]), rdata]);
  const signedResp = Buffer.concat([resp, rr]);
  signedResp.writeUInt16BE(1, 10);
  assert.deepEqual(verifyResponse(signedResp, key, mac, now), { kind: 'ok' });
  const tampered = Buffer.from(signedResp);
  tampered[3] = (tampered[3] ?? 0) ^ 1;
  assert.equal(verifyResponse(tampered, key, mac, now).kind, 'bad');
  assert.equal(verifyResponse(resp, key, mac, now).kind, 'unsigned');
});

test('TSIG keys: BIND key file and nsupdate -y spec; other algorithms and short secrets refused', () => {
  const secret = Buffer.alloc(32, 3).toString('base64');
  const k = parseKeyFile(`key "drtk-update" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`);
  assert.deepEqual([k.name, k.algorithm, k.secret.length], ['drtk-update', 'hmac-sha256', 32]);
  assert.equal(parseKeySpec(`name.:${secret}`).name, 'name');
  assert.throws(() => parseKeySpec(`hmac-md5:n:${secret}`), /not supported/);
  assert.throws(() => parseKeySpec('n:AAAA'), /shorter than 16/);
});

describe('tlsa rollover (command, lab resolver)', () => {
  let resolver: LabResolver;
  let dir = '';
  before(async () => {
    resolver = await startLabResolver({ zones: [] });
    dir = await mkdtemp(join(tmpdir(), 'rollover-'));
    await writeFile(join(dir, 'a.pem'), a.certPem);
    await writeFile(join(dir, 'b.key'), b.keyPem);
    await writeFile(join(dir, 'b.pem'), b.certPem);
    resolver.setZones([{ origin: 'example.test', signed: true, servfail: [{ name: '_26._tcp.mx.example.test', type: 'TLSA' }], records: [
      { name: '_25._tcp.mx.example.test', type: 'TLSA', data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from(tlsaDataFor(a.der, 1, 1)) } },
    ] }]);
  });
  after(async () => { await resolver.close(); await rm(dir, { recursive: true, force: true }); });
  async function run(o: Partial<RolloverOptions>): Promise<{ code: number; out: string; err: string }> {
    let out = ''; let err = '';
    const code = await runRollover({ current: join(dir, 'a.pem'), port: 25, ttl: 300, params: P, waitSeconds: 0, resolver: resolver.address, ...o }, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } });
    return { code, out, err };
  }

  test('plan with --next-key: publish lines (current + next) and the RRset to keep', async () => {
    const r = await run({ nextKey: join(dir, 'b.key') });
    assert.equal(r.code, 0, r.err);
    const ha = Buffer.from(tlsaDataFor(a.der, 1, 1)).toString('hex');
    const hb = Buffer.from(tlsaDataFor(b.der, 1, 1)).toString('hex');
    assert.match(r.out, new RegExp(`publish now.*\\n_25\\._tcp\\.mx\\.example\\.test\\. 300 IN TLSA 3 1 1 ${ha}\\n_25\\._tcp\\.mx\\.example\\.test\\. 300 IN TLSA 3 1 1 ${hb}\\n; 2\\. wait at least 2 x TTL \\(600 s\\)`));
    assert.match(r.out, new RegExp(`retire .*\\n_25\\._tcp\\.mx\\.example\\.test\\. 300 IN TLSA 3 1 1 ${hb}\\n$`));
  });

  test('--step publish --nsupdate prints only what is missing (A is published already)', async () => {
    const r = await run({ step: 'publish', next: join(dir, 'b.pem'), nsupdate: true, zone: 'example.test' });
    assert.equal(r.code, 0, r.err);
    assert.equal((r.out.match(/^update add /gm) ?? []).length, 1);
    assert.match(r.out, /^zone example\.test\.$/m);
  });

  test('C1: a TLSA lookup failure refuses the step (never "no records")', async () => {
    const r = await run({ step: 'publish', next: join(dir, 'b.pem'), port: 26 });
    assert.equal(r.code, 1);
    assert.match(r.err, /TLSA lookup of _26\._tcp\.mx\.example\.test failed .*not treated as "no records"; fix DNS first/);
  });

  test('bad input exits 2 with a clear message', async () => {
    const r = await run({ step: 'publish', next: join(dir, 'missing.pem') });
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot read .*missing\.pem: ENOENT/);
  });
});
