import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, issueLeaf, chainOf } from '../../src/lab/certs.ts';
import type { IssuedCert } from '../../src/lab/certs.ts';
import { startMxServer } from '../../src/lab/mx-server.ts';
import type { MxMode } from '../../src/lab/mx-server.ts';
import { findSharedPort } from '../../src/lab/shared-port.ts';
import { sendOne } from './smtp-client.ts';

let chain: IssuedCert[];
before(async () => {
  const root = await createRootCa('MX Test Root');
  chain = chainOf(await issueLeaf(root, { dnsNames: ['mx.dest.lab.test'] }));
});

describe('lab MX server modes', () => {
  const cases: Array<{ mode: MxMode; requireTLS: boolean; expect: 'tls' | 'plain' | 'error' }> = [
    { mode: 'starttls', requireTLS: true, expect: 'tls' },
    { mode: 'starttls', requireTLS: false, expect: 'tls' },
    { mode: 'no-starttls', requireTLS: false, expect: 'plain' },
    { mode: 'no-starttls', requireTLS: true, expect: 'tls' },
    { mode: 'plaintext-only', requireTLS: false, expect: 'plain' },
    { mode: 'plaintext-only', requireTLS: true, expect: 'error' },
    { mode: 'handshake-fail', requireTLS: true, expect: 'error' },
  ];
  for (const c of cases) {
    test(`C14 lab: mode ${c.mode}, client requireTLS=${c.requireTLS} -> ${c.expect}`, async () => {
      const mx = await startMxServer({ host: '127.0.0.2', port: 0, mode: c.mode, chain, name: 'mx.dest.lab.test', label: 'mx1' });
      try {
        const r = await sendOne({ host: mx.host, port: mx.port, requireTLS: c.requireTLS, servername: 'mx.dest.lab.test' });
        const msgs = mx.messages();
        if (c.expect === 'error') {
          assert.equal(r.kind, 'error');
          // a refused STARTTLS is ETLS; a failed handshake surfaces as a socket error with a TLS alert
          const code = r.kind === 'error' ? r.code : '';
          if (c.mode === 'handshake-fail') assert.match(code + ' ' + (r.kind === 'error' ? r.message : ''), /ESOCKET .*alert|ETLS/);
          else assert.equal(code, 'ETLS', JSON.stringify(r));
          assert.equal(msgs.length, 0, 'nothing may arrive');
          return;
        }
        assert.equal(r.kind, 'sent', JSON.stringify(r));
        assert.equal(msgs.length, 1);
        const m = msgs[0]!;
        assert.equal(m.secure, c.expect === 'tls');
        assert.deepEqual(m.to, ['rcpt@dest.lab.test']);
        assert.equal(m.from, 'sender@lab.test');
        assert.match(m.data, /hello/);
        if (c.expect === 'tls') {
          assert.equal(m.sni, 'mx.dest.lab.test');
          assert.deepEqual(m.certificate, mx.presents);
          assert.equal(r.kind === 'sent' ? r.peerCertSha256 : null, mx.presents?.sha256);
        } else {
          assert.equal(m.sni, null);
          assert.equal(m.certificate, null);
        }
      } finally {
        await mx.close();
      }
    });
  }

  test('lab: sessions record TLS, SNI and MAIL FROM; reset clears them', async () => {
    const mx = await startMxServer({ host: '127.0.0.2', port: 0, mode: 'starttls', chain });
    try {
      await sendOne({ host: mx.host, port: mx.port, requireTLS: true });
      const s = mx.sessions();
      assert.equal(s.length, 1);
      assert.equal(s[0]!.secure, true);
      assert.equal(s[0]!.sni, null, 'no SNI sent for an IP without servername');
      assert.equal(s[0]!.mailFrom, true);
      mx.reset();
      assert.equal(mx.sessions().length, 0);
      assert.equal(mx.messages().length, 0);
    } finally {
      await mx.close();
    }
  });

  test('lab: servers on different loopback addresses share one port', async () => {
    const port = await findSharedPort(['127.0.0.2', '127.0.0.3']);
    const a = await startMxServer({ host: '127.0.0.2', port, mode: 'plaintext-only' });
    const b = await startMxServer({ host: '127.0.0.3', port, mode: 'plaintext-only' });
    try {
      await sendOne({ host: '127.0.0.3', port });
      assert.equal(a.messages().length, 0);
      assert.equal(b.messages().length, 1);
      assert.equal(b.messages()[0]!.remoteAddress.startsWith('127.'), true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('lab: refuses non-loopback addresses', async () => {
    await assert.rejects(startMxServer({ host: '0.0.0.0', port: 0, mode: 'plaintext-only' }), /non-loopback/);
  });
});
