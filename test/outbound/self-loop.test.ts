/**
 * Mail loops through the relay's own listeners (Postfix "mail for DOMAIN
 * loops back to myself", 5.4.6): a transport entry or an MX host that
 * resolves to an address and port the relay listens on is never connected to.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabZone } from '../../src/lab/lab-resolver.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import type { RelayConfigInput } from '../../src/config/schema.ts';
import type { RecipientOutcome } from '../../src/queue/deliverer.ts';
import { addMx, collectingLogger, job, startLab, testConfig, type Lab } from './helpers.ts';

const ZONE = (mx: Array<[number, string]>): LabZone[] => [{
  origin: 'loop.test', signed: false,
  records: [
    ...mx.map(([preference, exchange]) => ({ name: 'loop.test', type: 'MX' as const, data: { preference, exchange } })),
    { name: 'self.loop.test', type: 'A', data: '127.0.0.2' },
    { name: 'other.loop.test', type: 'A', data: '127.0.0.3' },
  ],
}];

async function deliver(mx: Array<[number, string]>, extra: (port: number) => Partial<RelayConfigInput>, setup: (lab: Lab) => Promise<void> = async () => undefined): Promise<{ out: RecipientOutcome[]; lab: Lab }> {
  const lab = await startLab(ZONE(mx));
  try {
    await setup(lab);
    const { logger } = collectingLogger();
    const d = await createDeliverer(testConfig(lab.port, { tls: { security_level: 'may' }, ...extra(lab.port) }), { logger, dns: lab.dns });
    try {
      return { out: await d.deliver(job('loop.test', ['a@loop.test'])), lab };
    } finally {
      await d.close();
    }
  } finally {
    await lab.close();
  }
}

describe('RFC 5321 §5.1: a next hop that is the relay itself (5.4.6)', () => {
  test('the only MX host resolves to our listener → bounced 5.4.6 "mail for loop.test loops back to myself", nothing connected', async () => {
    let mx!: Awaited<ReturnType<typeof addMx>>;
    // A server at that address and port counts connections; the relay must never open one.
    const { out } = await deliver([[10, 'self.loop.test']], (port) => ({ listen: [`127.0.0.2:${port}`] }), async (lab) => {
      mx = await addMx(lab, { host: '127.0.0.2' });
    });
    assert.equal(mx.stats.connections, 0);
    assert.deepEqual(out.map((o) => [o.status, o.dsn, o.diagnostic]), [['bounced', '5.4.6', 'mail for loop.test loops back to myself']]);
  });

  test('a wildcard listener (0.0.0.0) takes every 127/8 address: the MX is us → bounced 5.4.6', async () => {
    const { out } = await deliver([[10, 'self.loop.test']], (port) => ({ listen: [`0.0.0.0:${port}`] }));
    assert.deepEqual(out.map((o) => [o.status, o.dsn]), [['bounced', '5.4.6']]);
  });

  test('a transport entry [host] pointing back at us → bounced 5.4.6, with the next hop named', async () => {
    const { out } = await deliver([[10, 'other.loop.test']], (port) => ({ listen: [`127.0.0.2:${port}`], delivery: { port, transport: { 'loop.test': '[self.loop.test]' } } }));
    assert.deepEqual(out.map((o) => [o.status, o.dsn, o.diagnostic]), [['bounced', '5.4.6', 'mail for self.loop.test loops back to myself']]);
  });

  test('our listener is one MX among others: it is skipped and the other MX gets the message', async () => {
    let other!: Awaited<ReturnType<typeof addMx>>;
    const { out } = await deliver([[10, 'self.loop.test'], [20, 'other.loop.test']], (port) => ({ listen: [`127.0.0.2:${port}`] }), async (lab) => {
      other = await addMx(lab, { host: '127.0.0.3' });
    });
    assert.equal(out[0]?.status, 'sent');
    assert.equal(other.stats.messages.length, 1);
  });

  test('same address on another port is not us: delivered', async () => {
    let mx!: Awaited<ReturnType<typeof addMx>>;
    const { out } = await deliver([[10, 'self.loop.test']], (port) => ({ listen: [`127.0.0.2:${port + 1}`] }), async (lab) => {
      mx = await addMx(lab, { host: '127.0.0.2' });
    });
    assert.equal(out[0]?.status, 'sent');
    assert.equal(mx.stats.messages.length, 1);
  });
});
