/**
 * tools/tlsa/starttls-chain: the presented chain read through the relay's
 * adapter (STARTTLS) or a bare handshake (TLS from the first byte), on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createSelfSigned, type IssuedCert } from '../../../src/lab/certs.ts';
import { fetchPresentedChain } from '../../../src/tools/tlsa/starttls-chain.ts';

describe('fetchPresentedChain without STARTTLS (port 465 style)', () => {
  let cert: IssuedCert; let server: tls.Server; let port = 0; let sniSeen: string | null = null;
  before(async () => {
    cert = await createSelfSigned({ dnsNames: ['smtps.example'] });
    const context = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem });
    // SNI is seen during the handshake; the client hangs up as soon as it has the chain.
    server = tls.createServer({ cert: cert.certPem, key: cert.keyPem, SNICallback: (name, cb) => { sniSeen = name; cb(null, context); } }, (s) => { s.end(); });
    server.on('tlsClientError', () => { /* the client hung up right after reading the chain */ });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => { server.close(); });

  test('reads the chain as presented, with SNI', async () => {
    const r = await fetchPresentedChain({ host: '127.0.0.1', port, starttls: 'none', servername: 'smtps.example', ehloName: 'client.test', timeoutMs: 5000 });
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') assert.deepEqual(r.chain.map((c) => Buffer.from(c).toString('hex')), [cert.der.toString('hex')]);
    assert.equal(sniSeen, 'smtps.example');
  });

  test('nothing listening: an error at stage connect', async () => {
    const r = await fetchPresentedChain({ host: '127.0.0.1', port: 1, starttls: 'none', ehloName: 'client.test', timeoutMs: 5000 });
    assert.equal(r.kind, 'error');
    if (r.kind === 'error') assert.equal(r.stage, 'connect');
  });
});
