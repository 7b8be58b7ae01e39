/**
 * The hostile resolver's replies, read by the relay's own wire and interpret
 * code (C1/C4): every hostile variant, for MX, A and TLSA and many fuzz
 * parameters, is undecodable, not the answer to the query (ignored), silent,
 * or a `failure` — never records, never a denial. The well-formed variants
 * decode to what `permits` assumes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import type { RecordType } from '../../src/core/dns-result.ts';
import { interpretResponse, newChain } from '../../src/dns/interpret.ts';
import { decodeResponse, responseMismatch } from '../../src/dns/wire.ts';
import { HOSTILE_VARIANTS, hostileReply, type AnswerVariant, type HonestAnswer } from '../../src/lab/hostile-answers.ts';

const HONEST: Record<'MX' | 'A' | 'TLSA', [string, Answer]> = {
  MX: ['f1.fuzz.test', { name: 'f1.fuzz.test', type: 'MX', ttl: 60, class: 'IN', data: { preference: 10, exchange: 'mx1.f1.fuzz.test' } }],
  A: ['mx1.f1.fuzz.test', { name: 'mx1.f1.fuzz.test', type: 'A', ttl: 60, class: 'IN', data: '127.0.0.61' }],
  TLSA: ['_25._tcp.mx1.f1.fuzz.test', { name: '_25._tcp.mx1.f1.fuzz.test', type: 'TLSA', ttl: 60, class: 'IN', data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 1) } }],
};

function read(variant: AnswerVariant, type: 'MX' | 'A' | 'TLSA', n: number, transport: 'udp' | 'tcp'): string {
  const [name, rr] = HONEST[type];
  const q = { id: 4242, name, type };
  const honest: HonestAnswer = { answers: [rr], soaZone: 'fuzz.test' };
  const bytes = new Uint8Array(Array.from({ length: (n * 7) % 48 }, (_, i) => (i * 31 + n) & 0xff));
  const buf = hostileReply(variant, q, honest, { n, bytes }, transport);
  if (buf === null) return 'silent';
  const d = decodeResponse(buf);
  if (d.kind === 'malformed') return 'malformed';
  if (responseMismatch(d.response, 4242, { name, type }) !== undefined) return 'ignored';
  if (transport === 'udp' && d.response.tc) return 'retry-tcp';
  const rcode = d.response.rcode;
  if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') return 'failure';
  const step = interpretResponse(newChain(name, type as RecordType), d.response, name, d.response.ad);
  return step.kind === 'follow' ? `follow ${step.name}` : step.result.kind;
}

test('C1/C4: no hostile variant is ever read as records or as a denial (MX, A, TLSA; UDP and TCP; 40 parameter sets)', () => {
  const allowed = new Set(['silent', 'malformed', 'ignored', 'retry-tcp', 'failure']);
  for (const variant of HOSTILE_VARIANTS) {
    for (const type of ['MX', 'A', 'TLSA'] as const) {
      // tlsa-* variants change TLSA records only; for other types they are the honest answer.
      if (variant.startsWith('tlsa-') && type !== 'TLSA') continue;
      // a byte flipped inside RDATA may leave a well-formed record with other content: only "never throws" holds.
      if (variant === 'mutated') { for (let n = 0; n < 40; n++) read(variant, type, n, 'udp'); continue; }
      for (let n = 0; n < 40; n++) {
        for (const transport of ['udp', 'tcp'] as const) {
          const got = read(variant, type, n, transport);
          assert.ok(allowed.has(got), `${variant} ${type} n=${n} ${transport}: ${got}`);
        }
      }
    }
  }
});

test('the well-formed variants read as the oracle assumes: honest secure, insecure, secure NODATA, secure unusable TLSA', () => {
  assert.equal(read('honest', 'TLSA', 0, 'udp'), 'secure');
  assert.equal(read('insecure', 'A', 0, 'udp'), 'insecure');
  assert.equal(read('secure-nodata', 'TLSA', 0, 'udp'), 'nodata');
  assert.equal(read('unknown-usage', 'TLSA', 0, 'udp'), 'secure');
});
