/**
 * fetchStsPolicy against the lab HTTPS policy server on loopback
 * (RFC 8461 §3.3): PKIX with the lab CA, SNI, no redirects, 64 KiB cap,
 * text/plain, bounded timeouts, every address tried.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { issueLeaf } from '../../src/lab/certs.ts';
import { createLabPki, type LabPki } from '../../src/lab/lab-pki.ts';
import { startStsServer, type StsServer } from '../../src/lab/sts-server.ts';
import { fetchStsPolicy, type StsFetchOptions } from '../../src/sts/fetch.ts';
import { FakeDns } from './helpers.ts';

const POLICY = 'version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 86400\r\n';

let pki: LabPki;
let server: StsServer;
let dead: import('node:net').Server;
let deadPort = 0;

async function site(domain: string, extra: Partial<Parameters<StsServer['setSite']>[1]> = {}, names = [`mta-sts.${domain}`]): Promise<void> {
  const leaf = await issueLeaf(pki.publicIntermediate, { dnsNames: names });
  server.setSite(domain, { behaviour: 'serve', policy: POLICY, chain: [leaf, pki.publicIntermediate], ...extra });
}

function opts(dns: FakeDns, over: Partial<StsFetchOptions> = {}): StsFetchOptions {
  return { dns, ca: [pki.publicRoot.certPem], connectTimeoutMs: 2000, totalTimeoutMs: 4000, port: server.port, ...over };
}

before(async () => {
  pki = await createLabPki();
  server = await startStsServer({ host: '127.0.0.1' });
  // A second loopback address where nothing listens on the server's port (connection refused).
  const net = await import('node:net');
  dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  deadPort = (dead.address() as import('node:net').AddressInfo).port;
});
after(async () => {
  await server.close();
  await new Promise<void>((r) => dead.close(() => r()));
});

describe('fetchStsPolicy (RFC 8461 §3.3)', () => {
  test('§3.3: a 200 text/plain policy over PKIX-valid HTTPS is fetched and parsed; SNI is mta-sts.DOMAIN', async () => {
    await site('good.example');
    const r = await fetchStsPolicy('good.example', opts(new FakeDns().a('mta-sts.good.example', '127.0.0.1')));
    assert.equal(r.kind, 'policy', JSON.stringify(r));
    assert.ok(r.kind === 'policy' && r.policy.mode === 'enforce');
    const req = [...server.requests].reverse().find((x) => x.domain === 'good.example');
    assert.equal(req?.sni, 'mta-sts.good.example');
    assert.equal(req?.path, '/.well-known/mta-sts.txt');
  });

  test('§3.3: a certificate for another name is sts-webpki-invalid', async () => {
    await site('wrongname.example', {}, ['mta-sts.other.example']);
    const r = await fetchStsPolicy('wrongname.example', opts(new FakeDns().a('mta-sts.wrongname.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-webpki-invalid', JSON.stringify(r));
  });

  test('§3.3: a chain to a CA the relay does not trust is sts-webpki-invalid', async () => {
    const leaf = await issueLeaf(pki.daneIntermediate, { dnsNames: ['mta-sts.untrusted.example'] });
    server.setSite('untrusted.example', { behaviour: 'serve', policy: POLICY, chain: [leaf, pki.daneIntermediate] });
    const r = await fetchStsPolicy('untrusted.example', opts(new FakeDns().a('mta-sts.untrusted.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-webpki-invalid', JSON.stringify(r));
  });

  test('§3.3: a redirect is not followed: sts-policy-fetch-error', async () => {
    await site('redirect.example', { behaviour: 'status', status: 301 });
    const r = await fetchStsPolicy('redirect.example', opts(new FakeDns().a('mta-sts.redirect.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-fetch-error');
    assert.match(r.kind === 'failure' ? r.reason : '', /HTTP status 301/);
  });

  test('§3.3: 404 is sts-policy-fetch-error', async () => {
    await site('missing.example', { behaviour: 'status', status: 404 });
    const r = await fetchStsPolicy('missing.example', opts(new FakeDns().a('mta-sts.missing.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-fetch-error');
  });

  test('§3.3: a body above 64 KiB is refused (sts-policy-invalid)', async () => {
    await site('big.example', { behaviour: 'oversize' });
    const r = await fetchStsPolicy('big.example', opts(new FakeDns().a('mta-sts.big.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-invalid');
    assert.match(r.kind === 'failure' ? r.reason : '', /larger than 65536/);
  });

  test('§3.3: a media type other than text/plain is sts-policy-invalid', async () => {
    await site('html.example', { behaviour: 'wrong-type' });
    const r = await fetchStsPolicy('html.example', opts(new FakeDns().a('mta-sts.html.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-invalid');
  });

  test('§3.2: a malformed policy body is sts-policy-invalid', async () => {
    await site('bad.example', { policy: 'version: STSv1\nmode: always\n' });
    const r = await fetchStsPolicy('bad.example', opts(new FakeDns().a('mta-sts.bad.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-invalid');
  });

  test('§3.3: a server that never answers is cut off by the total timeout (bounded: 300 ms)', async () => {
    await site('hang.example', { behaviour: 'hang' });
    const r = await fetchStsPolicy('hang.example', opts(new FakeDns().a('mta-sts.hang.example', '127.0.0.1'), { totalTimeoutMs: 300 }));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-fetch-error');
    assert.match(r.kind === 'failure' ? r.reason : '', /timeout/);
  });

  test('§3.3: a connection reset (blocked fetch) is sts-policy-fetch-error', async () => {
    await site('reset.example', { behaviour: 'reset' });
    const r = await fetchStsPolicy('reset.example', opts(new FakeDns().a('mta-sts.reset.example', '127.0.0.1')));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-fetch-error');
  });

  test('§3.3: every address is tried: the first refuses, the second serves (mailauth 5.x used only the first)', async () => {
    await site('multi.example');
    // 127.0.0.2 has nothing on the server's port: connection refused, then 127.0.0.1 answers.
    const dns = new FakeDns().a('mta-sts.multi.example', '127.0.0.2', '127.0.0.1');
    const r = await fetchStsPolicy('multi.example', opts(dns));
    assert.equal(r.kind, 'policy', JSON.stringify(r));
  });

  test('§3.3: the policy host without addresses is sts-policy-fetch-error', async () => {
    const r = await fetchStsPolicy('noaddr.example', opts(new FakeDns()));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-fetch-error');
    assert.match(r.kind === 'failure' ? r.reason : '', /no address/);
  });

  test('§3.3: a listener that never completes the TLS handshake is cut off by the connect timeout (bounded: 300 ms)', async () => {
    // deadPort has a plain TCP listener that accepts and never speaks TLS.
    const r = await fetchStsPolicy('good.example', opts(new FakeDns().a('mta-sts.good.example', '127.0.0.1'), { port: deadPort, connectTimeoutMs: 300 }));
    assert.equal(r.kind === 'failure' && r.result, 'sts-policy-fetch-error');
    assert.match(r.kind === 'failure' ? r.reason : '', /no TLS connection within 300 ms/);
  });
});
