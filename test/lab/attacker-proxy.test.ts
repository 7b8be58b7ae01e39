import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, createIntermediateCa, issueLeaf, chainOf } from '../../src/lab/certs.ts';
import type { IssuedCert } from '../../src/lab/certs.ts';
import { startMxServer } from '../../src/lab/mx-server.ts';
import type { MxServer } from '../../src/lab/mx-server.ts';
import { startAttackerProxy, INJECTED_REPLY, ATTACK_MODES, interceptsTls, stripExtension } from '../../src/lab/attacker-proxy.ts';
import type { AttackMode, AttackerProxy } from '../../src/lab/attacker-proxy.ts';
import { stripStartTls, ReplyGrouper, LineSplitter, SmtpObserver } from '../../src/lab/smtp-lines.ts';
import { sendOne } from './smtp-client.ts';
import type { SendOptions, SendResult } from './smtp-client.ts';

const NAME = 'mx.dest.lab.test';
let real: IssuedCert[];
let impostor: IssuedCert[];
let publicRoot: IssuedCert;

before(async () => {
  const daneRoot = await createRootCa('Proxy Test DANE Root');
  real = chainOf(await issueLeaf(daneRoot, { dnsNames: [NAME] }));
  publicRoot = await createRootCa('Proxy Test Public Root');
  const inter = await createIntermediateCa(publicRoot, 'Proxy Test Public Intermediate');
  impostor = chainOf(await issueLeaf(inter, { dnsNames: [NAME] }));
});

async function withProxy(mode: AttackMode, client: Omit<SendOptions, 'host' | 'port'>,
  check: (r: SendResult, mx: MxServer, proxy: AttackerProxy) => void): Promise<void> {
  const mx = await startMxServer({ host: '127.0.0.2', port: 0, mode: 'starttls', chain: real, name: NAME });
  const proxy = await startAttackerProxy({ host: '127.0.0.9', port: 0, mode, upstream: { host: mx.host, port: mx.port }, impostor });
  try {
    const r = await sendOne({ host: proxy.host, port: proxy.port, servername: NAME, ...client });
    check(r, mx, proxy);
  } finally {
    await proxy.close();
    await mx.close();
  }
}

describe('attacker proxy', () => {
  test('passthrough: TLS end to end, nothing seen in clear', () => withProxy('passthrough', { requireTLS: true }, (r, mx, proxy) => {
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(mx.messages()[0]?.secure, true);
    assert.equal(proxy.stats().startTlsCommands, 1);
    assert.equal(proxy.sawMessageInClear(), false);
  }));

  test('C14 strip-starttls: a client that requires TLS fails closed, nothing leaks', () => withProxy('strip-starttls', { requireTLS: true }, (r, mx, proxy) => {
    assert.equal(r.kind, 'error');
    assert.equal(mx.messages().length, 0);
    assert.equal(proxy.stats().startTlsCommands, 1, 'the blind STARTTLS reached the proxy');
    assert.equal(proxy.sawMessageInClear(), false);
  }));

  test('strip-starttls: an opportunistic client is downgraded and the proxy records the plaintext message', () => withProxy('strip-starttls', { opportunisticTLS: true }, (r, mx, proxy) => {
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(mx.messages()[0]?.secure, false);
    assert.equal(proxy.stats().plaintextMessages, 1);
    assert.equal(proxy.sawMessageInClear(), true);
  }));

  test('C14 starttls-454: a client that requires TLS fails closed', () => withProxy('starttls-454', { requireTLS: true }, (r, mx, proxy) => {
    assert.equal(r.kind, 'error');
    assert.equal(r.kind === 'error' ? r.code : '', 'ETLS');
    assert.equal(mx.messages().length, 0);
    assert.equal(proxy.sawMessageInClear(), false);
  }));

  test('starttls-454: an opportunistic client continues in plaintext, recorded as a leak', () => withProxy('starttls-454', { opportunisticTLS: true }, (r, _mx, proxy) => {
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(proxy.stats().plaintextMessages, 1);
  }));

  test('C16 tls-intercept: the impostor is PKIX-valid for the name, and the proxy reads the message', () => withProxy('tls-intercept', { requireTLS: true, rejectUnauthorized: true, get ca() { return publicRoot.certPem; } }, (r, mx, proxy) => {
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(r.kind === 'sent' ? r.peerCertSha256 : '', impostor[0]!.x509.fingerprint256.replace(/:/g, '').toLowerCase());
    assert.equal(mx.messages()[0]?.secure, true, 'the proxy speaks TLS upstream');
    assert.deepEqual(proxy.stats().interceptSni, [NAME]);
    assert.equal(proxy.stats().interceptedMessages, 1);
    assert.equal(proxy.sawMessageInClear(), true);
  }));

  test('C32 inject: the forged reply is sent in one write with the 220, TLS stays end to end', () => withProxy('inject', { requireTLS: true }, (r, mx, proxy) => {
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(r.kind === 'sent' ? r.peerCertSha256 : '', mx.presents?.sha256, 'the real server certificate');
    assert.equal(proxy.stats().injected, 1);
    assert.equal(proxy.sawMessageInClear(), false);
    assert.equal(INJECTED_REPLY, '220 ready\r\n250 forged\r\n');
  }));

  test('refuses tls-intercept without an impostor chain', async () => {
    await assert.rejects(startAttackerProxy({ host: '127.0.0.9', port: 0, mode: 'tls-intercept', upstream: { host: '127.0.0.2', port: 1 } }), /impostor/);
  });
});

describe('SMTP line helpers', () => {
  test('stripStartTls removes the capability and fixes the last line', () => {
    assert.deepEqual(stripStartTls(['250-mx', '250-PIPELINING', '250 STARTTLS']).reply, ['250-mx', '250 PIPELINING']);
    assert.deepEqual(stripStartTls(['250-mx', '250-STARTTLS', '250 SIZE']).reply, ['250-mx', '250 SIZE']);
    assert.equal(stripStartTls(['250-mx', '250 SIZE']).stripped, false);
  });
  test('ReplyGrouper groups multi-line replies; LineSplitter keeps partial lines', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from('250-a\r\n250 b\r\n220 c')), ['250-a', '250 b']);
    assert.deepEqual(s.push(Buffer.from('\r\n')), ['220 c']);
    assert.deepEqual(new ReplyGrouper().push(['250-a', '250 b', '220 c', '250-x']), [['250-a', '250 b'], ['220 c']]);
  });
  test('SmtpObserver counts complete bodies only', () => {
    const o = new SmtpObserver();
    for (const l of ['EHLO x', 'MAIL FROM:<a@b>', 'DATA', 'Subject: x', '', 'body', '.', 'QUIT']) o.line(l);
    assert.equal(o.messages, 1);
  });
});

describe('strip-requiretls: REQUIRETLS removed from an EHLO reply (RFC 8689 attacker)', () => {
  test('the REQUIRETLS line goes, the last line keeps the final form', () => {
    assert.deepEqual(stripExtension(['250-mx Hello', '250-PIPELINING', '250-REQUIRETLS', '250 SIZE 100'], 'REQUIRETLS'), ['250-mx Hello', '250-PIPELINING', '250 SIZE 100']);
    assert.deepEqual(stripExtension(['250-mx Hello', '250 REQUIRETLS'], 'REQUIRETLS'), ['250 mx Hello']);
  });
  test('a host name containing the word is not an extension line', () => {
    const reply = ['250-mx-requiretls.example Hello', '250 SIZE 100'];
    assert.deepEqual(stripExtension(reply, 'REQUIRETLS'), reply);
  });
  test('intercepting modes need an impostor chain', () => {
    assert.deepEqual(ATTACK_MODES.filter(interceptsTls), ['tls-intercept', 'strip-requiretls']);
  });
});
