/**
 * dns/client: concurrent lookups do not pile abort listeners onto one
 * AbortSignal (issue 19 item 7: "MaxListenersExceededWarning: 11 abort
 * listeners added to [AbortSignal]"). Each resolution has its own signal;
 * close() still aborts every query in flight (C1: it ends as a failure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecodedPacket } from 'dns-packet';
import { aRecord, respond, startRawUdp, testClient } from './helpers.ts';

const CONCURRENT = 30;

test('30 lookups in flight at once on one client: no MaxListenersExceededWarning, all answered', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };
  process.on('warning', onWarning);
  const held: Array<{ q: DecodedPacket; reply: (b: Buffer) => void }> = [];
  // The server answers nothing until all 30 queries have arrived: they are provably in flight together.
  const server = await startRawUdp((q, reply) => {
    held.push({ q, reply });
    if (held.length === CONCURRENT) for (const h of held) h.reply(respond(h.q, { ad: true, answers: [aRecord(h.q.questions?.[0]?.name ?? '', '192.0.2.1')] }));
  });
  const client = testClient([server], { timeoutMs: 10_000, attempts: 1 });
  try {
    const results = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => client.lookup(`h${i}.example.test`, 'A')));
    assert.deepEqual(results.map((r) => r.kind), Array(CONCURRENT).fill('secure'));
    await new Promise((r) => setImmediate(r)); // process.emitWarning emits on the next tick
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  } finally {
    process.off('warning', onWarning);
    await client.close();
    await server.close();
  }
});

test('close() aborts every lookup in flight: each ends as a network failure, none as absent (C1)', async () => {
  const server = await startRawUdp(() => undefined); // never answers
  const client = testClient([server], { timeoutMs: 60_000, attempts: 1 });
  try {
    const pending = Array.from({ length: 12 }, (_, i) => client.lookup(`h${i}.example.test`, 'TLSA'));
    for (let i = 0; i < 100_000 && server.received.length < 12; i++) await new Promise((r) => setImmediate(r)); // bounded: waits for the 12 queries to arrive
    assert.equal(server.received.length, 12);
    await client.close();
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => r.kind === 'failure' && r.reason), Array(12).fill('network'));
    const after = await client.lookup('late.example.test', 'A');
    assert.equal(after.kind === 'failure' && after.reason, 'network');
  } finally {
    await server.close();
  }
});
