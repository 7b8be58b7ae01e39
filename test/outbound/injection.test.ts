/**
 * C32 (RFC 3207 §6): plaintext the server sends after its STARTTLS reply is
 * discarded, never read as part of the TLS session, and reported as a
 * `starttls-injection` event ("plaintext data after STARTTLS").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { collectingLogger, job, startLab, testConfig } from './helpers.ts';

interface Fake { commands: string[]; close(): Promise<void> }

/** A minimal SMTP server that injects a line right after "220 go ahead". */
async function startInjectingMx(host: string, port: number, keyPem: string, certPem: string): Promise<Fake> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const serve = (s: net.Socket | tls.TLSSocket, secure: boolean): void => {
    let buf = '';
    let inData = false;
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0 && buf.length < 100_000; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) { if (line === '.') { inData = false; s.write('250 2.0.0 queued\r\n'); } continue; }
        const verb = line.split(' ')[0]?.toUpperCase() ?? '';
        commands.push(`${secure ? 'tls' : 'plain'}:${verb}`);
        if (verb === 'EHLO') s.write(secure ? '250 inj.test\r\n' : '250-inj.test\r\n250 STARTTLS\r\n');
        else if (verb === 'STARTTLS' && !secure) {
          s.removeListener('data', onData);
          s.write('220 go ahead\r\n250 INJECTED\r\n'); // the injection: plaintext after the STARTTLS reply
          const t = new tls.TLSSocket(s, { isServer: true, key: keyPem, cert: certPem });
          t.on('error', () => t.destroy());
          serve(t, true);
          return;
        } else if (verb === 'DATA') { inData = true; s.write('354 go\r\n'); }
        else if (verb === 'QUIT') { s.end('221 bye\r\n'); }
        else s.write('250 ok\r\n');
      }
    };
    s.on('data', onData);
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.write('220 inj.test ESMTP\r\n');
    serve(sock, false);
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  return {
    commands,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

test('C32: plaintext after the STARTTLS reply is discarded and logged as starttls-injection', async () => {
  const cert = await createSelfSigned({ dnsNames: ['mx1.inj.test'] });
  const lab = await startLab([{
    origin: 'inj.test', signed: true,
    records: [
      { name: 'inj.test', type: 'MX', data: { preference: 10, exchange: 'mx1.inj.test' } },
      { name: 'mx1.inj.test', type: 'A', data: '127.0.0.2' },
    ],
  }]);
  const fake = await startInjectingMx('127.0.0.2', lab.port, cert.keyPem, cert.certPem);
  try {
    const { logger, events } = collectingLogger();
    const d = await createDeliverer(testConfig(lab.port), { logger, dns: lab.dns });
    try {
      const out = await d.deliver(job('inj.test', ['a@inj.test']));
      assert.equal(out[0]?.status, 'sent');
      const inj = events.find((e) => e.event === 'starttls-injection') as { msg: string; discardedBytes: number } | undefined;
      assert.ok(inj, 'an injection event was logged');
      assert.ok(inj.discardedBytes > 0);
      assert.match(inj.msg, /^plaintext data after STARTTLS from mx1\.inj\.test\[127\.0\.0\.2\]:\d+/);
      assert.ok(fake.commands.includes('tls:EHLO'), 'EHLO was repeated inside TLS');
      assert.ok(!fake.commands.includes('plain:MAIL'), 'nothing of the transaction went in plaintext');
    } finally {
      await d.close();
    }
  } finally {
    await fake.close();
    await lab.close();
  }
});
