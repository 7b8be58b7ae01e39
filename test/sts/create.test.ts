import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { issueLeaf } from '../../src/lab/certs.ts';
import { createLabPki, type LabPki } from '../../src/lab/lab-pki.ts';
import { startStsServer, type StsServer } from '../../src/lab/sts-server.ts';
import { createStsFromConfig } from '../../src/sts/create.ts';
import { FakeDns } from './helpers.ts';

let dir: string;
let pki: LabPki;
let server: StsServer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sts-create-'));
  pki = await createLabPki();
  server = await startStsServer({ host: '127.0.0.1' });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('sts.enabled: false gives no resolver', async () => {
  assert.equal(await createStsFromConfig(parseConfig({ spool: dir, sts: { enabled: false } }), new FakeDns()), null);
});

test('the resolver from config trusts tls.ca_file for the policy fetch and caches in the spool', async () => {
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, pki.publicRoot.certPem);
  const leaf = await issueLeaf(pki.publicIntermediate, { dnsNames: ['mta-sts.conf.example'] });
  server.setSite('conf.example', { behaviour: 'serve', policy: 'version: STSv1\nmode: testing\nmx: mx.conf.example\nmax_age: 600\n', chain: [leaf, pki.publicIntermediate] });
  const dns = new FakeDns().txt('_mta-sts.conf.example', 'v=STSv1; id=1;').a('mta-sts.conf.example', '127.0.0.1');
  const config = parseConfig({ spool: dir, tls: { ca_file: caFile }, sts: { connect_timeout: '2s', fetch_timeout: '3s' } });
  const setup = await createStsFromConfig(config, dns, { port: server.port });
  assert.ok(setup);
  const state = await setup.resolver.resolve('conf.example');
  assert.equal(state.kind === 'policy' && state.policy.mode, 'testing');
  assert.equal(setup.store.get('conf.example')?.id, '1');
});

test('without tls.ca_file the system store is used: the lab CA is not trusted (sts-webpki-invalid)', async () => {
  const dns = new FakeDns().txt('_mta-sts.conf.example', 'v=STSv1; id=1;').a('mta-sts.conf.example', '127.0.0.1');
  const config = parseConfig({ spool: join(dir, 'other'), sts: { connect_timeout: '2s', fetch_timeout: '3s' } });
  const setup = await createStsFromConfig(config, dns, { port: server.port });
  const state = await setup?.resolver.resolve('conf.example');
  assert.equal(state?.kind === 'none' && state.failure, 'sts-webpki-invalid');
});
