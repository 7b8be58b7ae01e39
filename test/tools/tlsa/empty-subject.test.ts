/**
 * `tlsa match` and `tlsa generate` on a certificate with an empty subject:
 * no crash, no false "does not parse", the name printed as `(empty name)`
 * (C22: a DANE-EE match needs no name at all).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsaDataFor, toHex } from '../../../src/core/tlsa.ts';
import { runGenerate, type ToolIo } from '../../../src/tools/tlsa/run-generate.ts';
import { runMatch } from '../../../src/tools/tlsa/run-match.ts';
import { createEmptySubjectCert, type EmptySubjectCert } from '../empty-subject.ts';

function captureIo(): ToolIo & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; }, now: () => new Date() };
  return io;
}

describe('tlsa tools: certificate with an empty subject', () => {
  let cert: EmptySubjectCert; let file: string; let dir: string;
  before(async () => {
    cert = await createEmptySubjectCert('mx.example');
    dir = await mkdtemp(join(tmpdir(), 'empty-subject-'));
    file = join(dir, 'chain.pem');
    await writeFile(file, cert.pem);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('C22: tlsa match with a matching 3 1 1 record: MATCH, exit 0, the leaf named (empty name)', async () => {
    const io = captureIo();
    const record = `3 1 1 ${toHex(tlsaDataFor(cert.der, 1, 1))}`;
    const code = await runMatch({ chainFile: file, records: [record], port: 25, host: 'mx.example' }, io);
    assert.equal(code, 0, io.err);
    assert.match(io.out, /MATCHES at depth 0 \(leaf \(empty name\)\)/);
    assert.match(io.out, /Result: MATCH/);
  });

  test('tlsa match without --host uses the subjectAltName as the reference name', async () => {
    const io = captureIo();
    const code = await runMatch({ chainFile: file, records: [`3 1 1 ${toHex(tlsaDataFor(cert.der, 1, 1))}`], port: 25 }, io);
    assert.equal(code, 0, io.err);
    assert.match(io.err, /\[mx\.example\]/);
  });

  test('tlsa generate: prints the 3 1 1 record and names the leaf (empty name), exit 0', async () => {
    const io = captureIo();
    const code = await runGenerate({ certFile: file, host: 'mx.example', port: 25, timeoutMs: 1000 }, io);
    assert.equal(code, 0, io.err);
    assert.match(io.out, /leaf \(empty name\)/);
    assert.ok(io.out.includes(`_25._tcp.mx.example. IN TLSA 3 1 1 ${toHex(tlsaDataFor(cert.der, 1, 1))}`), io.out);
  });

  test('tlsa generate --json carries subject "(empty name)"', async () => {
    const io = captureIo();
    const code = await runGenerate({ certFile: file, host: 'mx.example', port: 25, timeoutMs: 1000, json: true }, io);
    assert.equal(code, 0, io.err);
    assert.match(io.out, /"subject": "\(empty name\)"/);
  });
});
