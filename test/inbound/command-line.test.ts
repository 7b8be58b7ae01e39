import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { CommandLineFilter } from '../../src/inbound/command-line.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { withInbound } from './helpers.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../../src/lab/certs.ts';

const M = Buffer.from('\x00MARK');

function feedAll(f: CommandLineFilter, chunks: string[]): string {
  let out = '';
  for (const c of chunks) {
    let rest = Buffer.from(c, 'latin1');
    while (rest.length > 0) {
      const { feed, consumed } = f.step(rest);
      out += feed.toString('latin1').replace(M.toString('latin1'), '<M>');
      rest = rest.subarray(consumed);
    }
  }
  return out;
}

describe('RFC 5321 §4.5.3.1.4: command line filter (pure)', () => {
  const cases: Array<{ name: string; chunks: string[]; want: string }> = [
    { name: 'lines within the limit pass unchanged', chunks: ['NOOP\r\nEHLO x\r\n'], want: 'NOOP\r\nEHLO x\r\n' },
    { name: 'a line at the limit passes', chunks: ['A'.repeat(10) + '\r\n'], want: 'A'.repeat(10) + '\r\n' },
    { name: 'a line over the limit becomes the marker line', chunks: ['A'.repeat(30) + '\r\nNOOP\r\n'], want: '<M>\r\nNOOP\r\n' },
    { name: 'an overlong line split over chunks is dropped, buffered part bounded', chunks: ['AAAAAAAA', 'AAAAAAAAAAA', 'AAAA\r\n', 'NOOP\r\n'], want: 'AAAAAAAA<M>\r\nNOOP\r\n' },
    { name: 'CR and LF in separate chunks', chunks: ['AAAAAAAAAA\r', '\nNOOP\r\n'], want: 'AAAAAAAAAA\r\nNOOP\r\n' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(feedAll(new CommandLineFilter(10, M), c.chunks), c.want));
  }

  test('input is consumed up to the end of a DATA line only: message content is never filtered', () => {
    const f = new CommandLineFilter(20, M);
    const input = Buffer.from('MAIL FROM:<>\r\nDATA\r\n' + 'B'.repeat(50) + '\r\n');
    const { feed, consumed } = f.step(input);
    assert.equal(feed.toString(), 'MAIL FROM:<>\r\nDATA\r\n');
    assert.equal(consumed, 'MAIL FROM:<>\r\nDATA\r\n'.length);
  });
});

describe('smtp-server contract (what command-line.ts relies on)', () => {
  test('stock smtp-server answers an overlong command with 421 and closes (the behaviour replaced, RFC 5321 §4.5.3.1.4)', async (t) => {
    // Runs before any InboundServer in this file installs the patch.
    const server = new SMTPServer({ logger: false, disableReverseLookup: true, authOptional: true, maxCommandLength: 512 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const c = await RawSmtp.connect((server.server.address() as AddressInfo).port);
    try {
      await c.greeting;
      c.write('NOOP ' + 'x'.repeat(20_000) + '\r\n');
      assert.match(await c.reply(), /^421 .*Command line too long/i);
      await c.waitClosed();
    } finally {
      c.close();
    }
  });

  test('the internals the patch uses exist', () => {
    const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
    for (const name of ['_createParser', '_onCommand', '_whenWritable', 'send']) assert.equal(typeof proto[name], 'function', name);
  });
});

describe('RFC 5321 §4.2.2, §4.5.3.1.4: overlong command lines (inbound)', () => {
  test('a 20 kB command line gets "500 5.5.2 Error: command line too long" and the session stays usable', async () => {
    await withInbound({}, async ({ port, queued }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.match(await c.cmd('EHLO client.test'), /^250/);
        assert.equal(await c.cmd('MAIL FROM:<a@src.test> ' + 'X'.repeat(20_000)), '500 5.5.2 Error: command line too long');
        assert.match(await c.cmd('NOOP'), /^250/);
        assert.match(await c.send('a@src.test', ['b@dst.test'], simpleMessage('after')), /^250 2\.0\.0 Ok: queued as /);
        assert.equal(queued.length, 1);
      } finally {
        c.close();
      }
    });
  });

  test('a 1 MB line sent in small pieces gets one 500 5.5.2, pipelined commands after it are answered in order', async () => {
    await withInbound({}, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        await c.cmd('EHLO client.test');
        const piece = 'Y'.repeat(4096);
        c.write('NOOP ');
        for (let i = 0; i < 256; i++) c.write(piece);
        c.write('\r\nNOOP\r\nRSET\r\n');
        assert.equal(await c.reply(), '500 5.5.2 Error: command line too long');
        assert.match(await c.reply(), /^250 /);
        assert.match(await c.reply(), /^250 /);
        assert.equal(c.isClosed, false);
      } finally {
        c.close();
      }
    });
  });

  test('a message line of 1999 octets after an overlong command is delivered unchanged (DATA is not filtered)', async () => {
    await withInbound({}, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        await c.cmd('EHLO client.test');
        assert.match(await c.cmd('X'.repeat(3000)), /^500 5\.5\.2/);
        const line = 'Z'.repeat(1999);
        assert.match(await c.send('a@src.test', ['b@dst.test'], simpleMessage('long', line)), /^250 2\.0\.0/);
      } finally {
        c.close();
      }
    });
  });

  test('after STARTTLS (a new parser) an overlong line also gets 500 5.5.2 and the TLS session goes on', async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'dane-relay-cmdline-'));
    try {
      const cert = await createSelfSigned({ dnsNames: ['relay.test'] });
      await writeFile(join(certDir, 'c.pem'), cert.certPem);
      await writeFile(join(certDir, 'k.pem'), cert.keyPem);
      await withInbound({ inbound: { tls: { cert: join(certDir, 'c.pem'), key: join(certDir, 'k.pem') } } }, async ({ port }) => {
        const c = await RawSmtp.connect(port);
        try {
          await c.greeting;
          await c.cmd('EHLO client.test');
          await c.startTls();
          await c.cmd('EHLO client.test');
          assert.equal(await c.cmd('NOOP ' + 'T'.repeat(30_000)), '500 5.5.2 Error: command line too long');
          assert.match(await c.send('a@src.test', ['b@dst.test'], simpleMessage('tls')), /^250 2\.0\.0/);
        } finally {
          c.close();
        }
      });
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  });
});
