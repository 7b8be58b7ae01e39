import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { pipelinedInput } from '../../src/inbound/server.ts';
import type { Spool } from '../../src/queue/spool.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { withInbound } from './helpers.ts';

async function nothingQueued(spool: Spool): Promise<void> {
  assert.deepEqual(await spool.list('incoming'), []);
  assert.deepEqual(await readdir(join(spool.root, 'tmp')), [], 'no half-written queue file is left behind');
}

describe('inbound SMTP', () => {
  test('a client in mynetworks gets "250 2.0.0 Ok: queued as ID" only once its queue file is on disk', async () => {
    await withInbound({}, async ({ port, spool, queued }) => {
      const c = await RawSmtp.connect(port);
      try {
        assert.match(await c.greeting, /^220 relay\.test ESMTP/);
        const reply = await c.send('alice@src.test', ['bob@dst.test', 'carol@other.test'], simpleMessage('hi'));
        const m = /^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/.exec(reply);
        assert.ok(m, reply);
        const id = m[1] ?? '';
        // the queue file exists the moment the 250 arrived
        const read = await spool.readRecord('incoming', id);
        assert.equal(read.kind, 'ok');
        if (read.kind !== 'ok') return;
        assert.equal(read.record.sender, 'alice@src.test');
        assert.deepEqual(read.record.recipients.map((r) => [r.address, r.status]), [['bob@dst.test', 'pending'], ['carol@other.test', 'pending']]);
        const body = (await spool.readContent('incoming', id, read.record.size)).toString('utf8');
        assert.match(body, new RegExp(`^Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby relay\\.test \\(dane-relay\\) with ESMTP id ${id};\\r\\n\\t\\w{3}, `));
        assert.match(body, /\r\nSubject: hi\r\n\r\nhello\r\n$/);
        assert.equal(read.record.size, Buffer.byteLength(body));
        assert.deepEqual(queued, [id]);
      } finally {
        c.close();
      }
    });
  });

  test('EHLO announces SMTPUTF8, 8BITMIME, ENHANCEDSTATUSCODES, SIZE; no STARTTLS or AUTH when not configured', async () => {
    await withInbound({}, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        const ehlo = await c.cmd('EHLO client.test');
        for (const ext of ['SMTPUTF8', '8BITMIME', 'ENHANCEDSTATUSCODES', 'SIZE 10485760', 'PIPELINING', 'DSN']) assert.match(ehlo, new RegExp(`^250[- ]${ext}$`, 'm'));
        assert.doesNotMatch(ehlo, /STARTTLS|AUTH/);
        assert.match(await c.cmd('STARTTLS'), /^5\d\d /, 'STARTTLS is not offered without a certificate');
      } finally {
        c.close();
      }
    });
  });

  test('a client outside mynetworks gets "554 5.7.1 Relay access denied" at RCPT and nothing is queued', async () => {
    await withInbound({ mynetworks: ['127.0.0.1/32'] }, async ({ port, spool, queued }) => {
      const c = await RawSmtp.connect(port, { localAddress: '127.0.0.2' });
      try {
        await c.greeting;
        await c.cmd('EHLO outsider.test');
        assert.match(await c.cmd('MAIL FROM:<x@outsider.test>'), /^250 /);
        assert.equal(await c.cmd('RCPT TO:<victim@dst.test>'), '554 5.7.1 Relay access denied');
        assert.match(await c.cmd('DATA'), /^503 /);
        await nothingQueued(spool);
        assert.deepEqual(queued, []);
      } finally {
        c.close();
      }
    });
  });

  test('SMTPUTF8 and BODY=8BITMIME are carried into the queue record', async () => {
    await withInbound({}, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        await c.cmd('EHLO client.test');
        assert.match(await c.cmd('MAIL FROM:<jösé@src.test> SMTPUTF8 BODY=8BITMIME'), /^250 /);
        assert.match(await c.cmd('RCPT TO:<müller@bücher.test>'), /^250 /);
        await c.cmd('DATA');
        c.write('Subject: Grüße\r\n\r\nÄpfel\r\n.\r\n');
        const id = /queued as (\w+)/.exec(await c.reply())?.[1] ?? '';
        const read = await spool.readRecord('incoming', id);
        assert.ok(read.kind === 'ok');
        assert.equal(read.record.smtputf8, true);
        assert.equal(read.record.eightBit, true);
        assert.equal(read.record.recipients[0]?.address, 'müller@bücher.test');
      } finally {
        c.close();
      }
    });
  });

  test('an oversize message gets "552 5.3.4" and nothing is queued (also SIZE= at MAIL FROM)', async () => {
    await withInbound({ inbound: { max_message_size: 1000 } }, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        const reply = await c.send('a@src.test', ['b@dst.test'], simpleMessage('big', 'x'.repeat(70) + '\r\n'.concat('y'.repeat(70) + '\r\n').repeat(20)));
        assert.match(reply, /^552 5\.3\.4 /);
        await nothingQueued(spool);
        assert.match(await c.cmd('MAIL FROM:<a@src.test> SIZE=5000'), /^552 5\.3\.4 /);
      } finally {
        c.close();
      }
    });
  });

  test('recipients over max_recipients get "452 4.5.3"', async () => {
    await withInbound({ inbound: { max_recipients: 2 } }, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        await c.cmd('EHLO client.test');
        await c.cmd('MAIL FROM:<a@src.test>');
        assert.match(await c.cmd('RCPT TO:<r1@dst.test>'), /^250 /);
        assert.match(await c.cmd('RCPT TO:<r2@dst.test>'), /^250 /);
        assert.match(await c.cmd('RCPT TO:<r3@dst.test>'), /^452 4\.5\.3 /);
      } finally {
        c.close();
      }
    });
  });

  const smuggling: Array<[string, string, RegExp]> = [
    ['bare LF inside the body', 'Subject: x\r\n\r\nline one\nline two\r\n.\r\n', /^550 5\.5\.2 Message contains bare LF$/],
    ['bare CR inside the body', 'Subject: x\r\n\r\nline one\rline two\r\n.\r\n', /^550 5\.5\.2 Message contains bare CR$/],
    ['<LF>.<LF> smuggling', 'Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<v@dst.test>\r\nDATA\r\nsmuggled\r\n.\r\n', /^550 5\.5\.2 Message contains bare LF$/],
    ['<CR><LF>.<LF> smuggling', 'Subject: x\r\n\r\nhi\r\n.\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<v@dst.test>\r\nDATA\r\nsmuggled\r\n.\r\n', /^550 5\.5\.2 Message contains bare LF$/],
    ['<LF>.<CR><LF> smuggling', 'Subject: x\r\n\r\nhi\n.\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<v@dst.test>\r\nDATA\r\nsmuggled\r\n.\r\n', /^550 5\.5\.2 Message contains bare LF$/],
    ['<CR>.<CR> smuggling', 'Subject: x\r\n\r\nhi\r.\rMAIL FROM:<evil@x.test>\r\n.\r\n', /^550 5\.5\.2 Message contains bare CR$/],
  ];
  for (const [name, body, expected] of smuggling) {
    test(`SMTP smuggling: ${name} is rejected with 550 5.5.2, one reply, nothing queued`, async () => {
      await withInbound({}, async ({ port, spool, queued }) => {
        const c = await RawSmtp.connect(port);
        try {
          await c.greeting;
          assert.match(await c.send('a@src.test', ['b@dst.test'], body), expected);
          // no second transaction was injected: the next reply is for our own command
          assert.match(await c.cmd('NOOP'), /^250 /);
          await nothingQueued(spool);
          assert.deepEqual(queued, []);
        } finally {
          c.close();
        }
      });
    });
  }

  test('a DATA line longer than max_line_length gets "500 5.5.2" and nothing is queued', async () => {
    await withInbound({ inbound: { max_line_length: 100 } }, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.match(await c.send('a@src.test', ['b@dst.test'], `Subject: x\r\n\r\n${'z'.repeat(100)}\r\n.\r\n`), /^250 /);
        assert.match(await c.send('a@src.test', ['b@dst.test'], `Subject: x\r\n\r\n${'z'.repeat(101)}\r\n.\r\n`), /^500 5\.5\.2 Message line too long$/);
        assert.equal((await spool.list('incoming')).length, 1);
      } finally {
        c.close();
      }
    });
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['MAIL FROM:<no-domain>', 'sender without domain', /^501 5\.1\.7 /],
    ['MAIL FROM:<a@-bad-.test>', 'sender with a bad domain', /^501 5\.1\.7 /],
    ['MAIL FROM:<a b@c.test>', 'sender with a space', /^5\d\d /],
    ['MAIL FROM:a@src.test', 'MAIL FROM without brackets', /^5\d\d /],
    ['RCPT TO:<postmaster>', 'recipient without domain', /^501 5\.1\.3 /],
    ['RCPT TO:<r@[127.0.0.1]>', 'recipient address literal', /^501 5\.1\.3 /],
    ['RCPT TO:<r@dst..test>', 'recipient with an empty label', /^501 5\.1\.3 /],
    ['RCPT TO:<r@bücher.test>', 'non-ASCII domain without SMTPUTF8', /^5\d\d /],
    ['RCPT TO:<@relay.test:r@dst.test>', 'source route', /^(250|5\d\d) /],
  ];
  for (const [command, name, expected] of malformed) {
    test(`malformed address: ${name} is refused (${command})`, async () => {
      await withInbound({}, async ({ port }) => {
        const c = await RawSmtp.connect(port);
        try {
          await c.greeting;
          await c.cmd('EHLO client.test');
          if (command.startsWith('RCPT')) assert.match(await c.cmd('MAIL FROM:<a@src.test>'), /^250 /);
          assert.match(await c.cmd(command), expected);
        } finally {
          c.close();
        }
      });
    });
  }

  test('replies to commands pipelined in one write leave in one write (the client reads them in one piece)', async () => {
    await withInbound({}, async ({ port }) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      try {
        const reads: string[] = [];
        let waiting: (() => void) | undefined;
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => {
          reads.push(d);
          waiting?.();
        });
        const nextRead = (): Promise<void> => new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no read in time')), 5000);
          waiting = () => {
            clearTimeout(timer);
            waiting = undefined;
            resolve();
          };
        });
        await nextRead();
        assert.match(reads[0] ?? '', /^220 /);
        socket.write('EHLO client.test\r\nMAIL FROM:<alice@src.test>\r\nRCPT TO:<bob@dst.test>\r\nDATA\r\n');
        await nextRead();
        assert.match(reads[1] ?? '', /^250-relay\.test[^]*\r\n250 [^]*\r\n250 [^]*\r\n354 [^]*\r\n$/);
      } finally {
        socket.destroy();
      }
    });
  });

  test('pipelinedInput: a read holding more than one line is pipelined; a single line, or part of one, is not', () => {
    const cases: Array<[string, boolean]> = [
      ['MAIL FROM:<a@b.test>\r\n', false],
      ['QUIT\r\n', false],
      ['RCPT TO:<b@c.te', false],
      ['', false],
      ['MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\n', true],
      ['RSET\r\nNO', true],
      ['line one\r\nline two\r\n.\r\n', true],
    ];
    for (const [input, expected] of cases) assert.equal(pipelinedInput(Buffer.from(input, 'latin1')), expected, JSON.stringify(input));
  });

  test('QUIT pipelined after the end of DATA, in the same write: 250 (queued) then 221, then the server closes', async () => {
    await withInbound({}, async ({ port, spool, queued }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        c.write('EHLO client.test\r\nMAIL FROM:<alice@src.test>\r\nRCPT TO:<bob@dst.test>\r\nDATA\r\n');
        assert.match(await c.reply(), /^250-relay\.test/);
        assert.match(await c.reply(), /^250 /);
        assert.match(await c.reply(), /^250 /);
        assert.match(await c.reply(), /^354 /);
        c.write(`${simpleMessage('pipelined')}QUIT\r\n`);
        const m = /^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/.exec(await c.reply());
        assert.ok(m);
        assert.match(await c.reply(), /^221 /);
        await c.waitClosed();
        assert.deepEqual(queued, [m[1]]);
        assert.equal((await spool.readRecord('incoming', m[1] ?? '')).kind, 'ok');
      } finally {
        c.close();
      }
    });
  });

  test('an idle client is disconnected with 421 after idle_timeout', async () => {
    await withInbound({ inbound: { idle_timeout: 0.2 } }, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.match(await c.reply(5000), /^421 /);
        await c.waitClosed();
      } finally {
        c.close();
      }
    });
  });

  test('connections over max_clients get 421', async () => {
    await withInbound({ inbound: { max_clients: 1 } }, async ({ port }) => {
      const first = await RawSmtp.connect(port);
      const second = await RawSmtp.connect(port);
      try {
        assert.match(await first.greeting, /^220 /);
        assert.match(await second.greeting, /^421 /);
      } finally {
        first.close();
        second.close();
      }
    });
  });
});
