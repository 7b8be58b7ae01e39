/**
 * The delivery engine in its own thread (src/outbound/delivery-thread.ts),
 * against the lab resolver and a DANE (3 1 1) MX on loopback: a body held in
 * memory and a body read from its queue file are both delivered over
 * Verified TLS; an MX whose certificate does not match is still refused
 * (the thread runs the same engine); a thread that dies with a job in
 * flight rejects that job (the scheduler defers it) and the next job runs
 * in a new thread; a reload's engine shares the thread; an engine that
 * cannot be built says why; closing the last engine ends the thread.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { parseConfig } from '../../src/config/load.ts';
import type { RelayConfig } from '../../src/config/schema.ts';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { tlsaData } from '../../src/lab/lab-pki.ts';
import { startLabResolver, type LabResolver } from '../../src/lab/lab-resolver.ts';
import { startMxServer, type MxServer } from '../../src/lab/mx-server.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { DeliveryThread } from '../../src/outbound/delivery-thread.ts';
import type { Deliverer, DeliveryJob } from '../../src/queue/deliverer.ts';

const BODY = 'From: a@src.test\r\nTo: b@thread.test\r\nSubject: thread\r\n\r\nhello from the delivery thread\r\n';

function job(queueId: string, domain: string, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  return {
    queueId, sender: 'a@src.test', domain, recipients: [`b@${domain}`], size: Buffer.byteLength(BODY), smtputf8: false, eightBit: false,
    receivedAt: Date.now(), attempt: 1, openBody: () => Buffer.from(BODY), ...extra,
  };
}

describe('delivery thread', () => {
  let mx: MxServer;
  let impostor: MxServer;
  let resolver: LabResolver;
  let dir: string;
  let config: RelayConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dr-thread-'));
    const cert = await createSelfSigned({ dnsNames: ['mx.thread.test'] });
    const other = await createSelfSigned({ dnsNames: ['mx.thread.test'] });
    mx = await startMxServer({ host: '127.0.0.2', port: 0, mode: 'starttls', chain: [cert], label: 'mx' });
    impostor = await startMxServer({ host: '127.0.0.3', port: mx.port, mode: 'starttls', chain: [other], label: 'impostor' });
    const tlsa = { usage: 3, selector: 1, matchingType: 1, certificate: tlsaData(cert, 1, 1) };
    resolver = await startLabResolver({
      zones: [
        { origin: 'thread.test', signed: true, records: [
          { name: 'thread.test', type: 'MX', data: { preference: 10, exchange: 'mx.thread.test' } },
          { name: 'mx.thread.test', type: 'A', data: '127.0.0.2' },
          { name: `_${mx.port}._tcp.mx.thread.test`, type: 'TLSA', data: tlsa },
        ] },
        { origin: 'impostor.test', signed: true, records: [
          { name: 'impostor.test', type: 'MX', data: { preference: 10, exchange: 'mx.impostor.test' } },
          { name: 'mx.impostor.test', type: 'A', data: '127.0.0.3' },
          { name: `_${mx.port}._tcp.mx.impostor.test`, type: 'TLSA', data: tlsa },
        ] },
      ],
    });
    config = parseConfig({
      myhostname: 'relay.thread.test', spool: join(dir, 'spool'), dns: { resolvers: [resolver.address] },
      delivery: { port: mx.port, inet_protocols: 'ipv4' }, log: { level: 'info', file: join(dir, 'relay.log') },
    });
  });

  after(async () => {
    await mx.close();
    await impostor.close();
    await resolver.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A thread with one engine built from `config`, closed (which ends the thread) however `fn` ends. */
  async function withEngine(fn: (engine: Deliverer, thread: DeliveryThread) => Promise<void>): Promise<void> {
    const thread = new DeliveryThread(config, { logger: silentLogger() });
    const engine = await thread.engine(config);
    try {
      await fn(engine, thread);
    } finally {
      await engine.close();
    }
  }

  test('delivers an in-memory body and a body read from its queue file, both over Verified DANE TLS', async () => {
    await withEngine(async (engine) => {
      mx.reset();
      const [first] = await engine.deliver(job('1A0000000000000001', 'thread.test'));
      assert.equal(first?.status, 'sent', first?.diagnostic);
      const file = join(dir, 'queued-body');
      await writeFile(file, BODY);
      const [second] = await engine.deliver(job('1A0000000000000002', 'thread.test', { openBody: () => assert.fail('the thread reads the file itself'), contentFile: file }));
      assert.equal(second?.status, 'sent', second?.diagnostic);
      const got = mx.messages();
      assert.equal(got.length, 2);
      for (const m of got) {
        assert.equal(m.secure, true);
        assert.match(m.data, /hello from the delivery thread/);
      }
    });
  });

  test('the thread runs the same engine: a certificate that does not match the TLSA records is refused, never sent', async () => {
    await withEngine(async (engine) => {
      impostor.reset();
      const [o] = await engine.deliver(job('1A0000000000000003', 'impostor.test'));
      assert.equal(o?.status, 'deferred');
      assert.match(o?.diagnostic ?? '', /TLSA|certificate|verif/i);
      assert.equal(impostor.messages().length, 0);
    });
  });

  test('a thread that dies with a job in flight rejects that job; the next job runs in a new thread', async () => {
    await withEngine(async (engine, thread) => {
      const inFlight = engine.deliver(job('1A0000000000000004', 'thread.test'));
      await (thread as unknown as { worker: Worker }).worker.terminate();
      await assert.rejects(inFlight, /delivery thread exited/);
      mx.reset();
      const [o] = await engine.deliver(job('1A0000000000000005', 'thread.test'));
      assert.equal(o?.status, 'sent', o?.diagnostic);
      assert.equal(mx.messages().length, 1);
    });
  });

  test('a reload builds its engine in the same thread; an engine that cannot be built says why', async () => {
    const thread = new DeliveryThread(config, { logger: silentLogger() });
    const first = await thread.engine(config);
    const worker = (thread as unknown as { worker: Worker }).worker;
    const second = await thread.engine({ ...config, log: { ...config.log, level: 'warn' } });
    assert.equal((thread as unknown as { worker: Worker }).worker, worker);
    await assert.rejects(thread.engine({ ...config, tls: { ...config.tls, ca_file: join(dir, 'no-such-ca.pem') } }), /no-such-ca\.pem/);
    await first.close();
    mx.reset();
    const [o] = await second.deliver(job('1A0000000000000006', 'thread.test'));
    assert.equal(o?.status, 'sent', o?.diagnostic);
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await second.close();
    assert.equal(typeof (await exited), 'number', 'closing the last engine ends the thread');
    await assert.rejects(second.deliver(job('1A0000000000000007', 'thread.test')), /closed/);
  });
});
