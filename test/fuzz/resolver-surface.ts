/**
 * Fault-suite surface `resolver` (issue 19): the relay's real DNS client and
 * delivery engine (createDeliverer: MX → addresses → TLSA → policy → SMTP)
 * against the hostile resolver, delivering to two lab MX servers that must
 * never get the message: mx1 speaks no TLS at all, mx2 is an impostor whose
 * certificate matches none of the honest TLSA records (a secure 3 1 1 RRset
 * for each host).
 *
 * One input = one message to a fresh domain `f<k>.fuzz.test` with, for each
 * question the relay asks (MX, A of mx1/mx2, TLSA of mx1/mx2), a reply variant
 * drawn by fast-check from `seed`: honest, a well-formed answer that may lower
 * the level (insecure A/TLSA, secure TLSA NODATA, unusable TLSA), or one of the
 * hostile variants (hostile-answers.ts). Questions about any other name are
 * answered SERVFAIL.
 *
 * Oracle (what is counted):
 * - wrongDeliveries: mx1 got the message while no well-formed answer that
 *   permits plaintext was served, or mx2 got it while none permitting an
 *   unauthenticated peer was (C1/C4, C15);
 * - lost: the message bounced (no input serves a well-formed denial of the MX
 *   or address, so a bounce can only come from a misread answer), or was
 *   reported `sent` while neither server has it;
 * - hangs: a delivery not finished within HANG_BOUND_MS (DNS timeout 300 ms ×
 *   at most 2 transports × 5 questions, plus loopback SMTP, is far below it);
 * - crashes: deliver() threw, or an unhandled rejection / uncaught exception
 *   surfaced during the run.
 * Each finding names the seed, the input index and the variants to replay it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { HOSTILE_VARIANTS, permits, type AnswerVariant, type HonestAnswer, type ReplyParams } from '../../src/lab/hostile-answers.ts';
import { startHostileResolver, type ServedReply } from '../../src/lab/hostile-resolver.ts';
import { startMxServer, type MxServer } from '../../src/lab/mx-server.ts';
import { findSharedPort } from '../../src/lab/shared-port.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import type { Deliverer, RecipientOutcome } from '../../src/queue/deliverer.ts';
import type { FuzzSurface, FuzzTally } from './surface.ts';

const HANG_BOUND_MS = 20_000;
const PLAIN_IP = '127.0.0.61';
const IMPOSTOR_IP = '127.0.0.62';
const ZONE = 'fuzz.test';
const SLOTS = ['MX', 'A1', 'A2', 'TLSA1', 'TLSA2'] as const;
type Slot = (typeof SLOTS)[number];
interface Pick { variant: AnswerVariant; params: ReplyParams }
type Input = Record<Slot, Pick>;

const params = fc.record({ n: fc.nat(65_535), bytes: fc.uint8Array({ maxLength: 48 }) });
const pick = (variants: readonly AnswerVariant[]): fc.Arbitrary<Pick> => fc.record({ variant: fc.constantFrom(...variants), params });
function slotArb(wellFormed: AnswerVariant[]): fc.Arbitrary<Pick> {
  return fc.oneof({ weight: 2, arbitrary: pick(['honest', ...wellFormed]) }, { weight: 3, arbitrary: pick(HOSTILE_VARIANTS) });
}
export const inputArb: fc.Arbitrary<Input> = fc.record({
  MX: slotArb([]), A1: slotArb(['insecure']), A2: slotArb(['insecure']),
  TLSA1: slotArb(['insecure', 'secure-nodata', 'unknown-usage']), TLSA2: slotArb(['insecure', 'secure-nodata', 'unknown-usage']),
});

interface Lab {
  port: number;
  plain: MxServer;
  impostor: MxServer;
  deliverer: Deliverer;
  /** name → slot for the input in flight */
  slots: Map<string, Slot>;
  current: { input: Input | null; served: ServedReply[] };
  close(): Promise<void>;
}

function slotNames(k: number, port: number): Map<string, Slot> {
  const d = `f${k}.${ZONE}`;
  return new Map<string, Slot>([
    [`${d} MX`, 'MX'], [`mx1.${d} A`, 'A1'], [`mx2.${d} A`, 'A2'],
    [`_${port}._tcp.mx1.${d} TLSA`, 'TLSA1'], [`_${port}._tcp.mx2.${d} TLSA`, 'TLSA2'],
  ]);
}

function honestZone(port: number, digest: Buffer): (name: string, type: string) => HonestAnswer {
  return (name, type) => {
    const m = /^(?:_(\d+)\._tcp\.)?(?:(mx[12])\.)?(f\d+\.fuzz\.test)$/.exec(name);
    const none: HonestAnswer = { answers: [], soaZone: ZONE };
    if (!m) return none;
    const [, tport, host, domain] = m;
    if (type === 'MX' && !tport && !host) {
      return { soaZone: ZONE, answers: [1, 2].map((i) => ({ name, type: 'MX', ttl: 60, class: 'IN', data: { preference: i * 10, exchange: `mx${i}.${domain}` } })) };
    }
    if (type === 'A' && host && !tport) return { soaZone: ZONE, answers: [{ name, type: 'A', ttl: 60, class: 'IN', data: host === 'mx1' ? PLAIN_IP : IMPOSTOR_IP }] };
    if (type === 'TLSA' && host && Number(tport) === port) {
      return { soaZone: ZONE, answers: [{ name, type: 'TLSA', ttl: 60, class: 'IN', data: { usage: 3, selector: 1, matchingType: 1, certificate: digest } }] };
    }
    return none;
  };
}

async function startLab(dir: string): Promise<Lab> {
  const port = await findSharedPort([PLAIN_IP, IMPOSTOR_IP]);
  const impostorChain = [await createSelfSigned({ dnsNames: [`mx2.${ZONE}`] })];
  const plain = await startMxServer({ host: PLAIN_IP, port, mode: 'plaintext-only', label: 'mx1' });
  const impostor = await startMxServer({ host: IMPOSTOR_IP, port, mode: 'starttls', chain: impostorChain, label: 'mx2' });
  const slots = new Map<string, Slot>();
  const current: Lab['current'] = { input: null, served: [] };
  const resolver = await startHostileResolver({
    honest: honestZone(port, Buffer.alloc(32, 0x5a)),
    choose: (q) => {
      // The MTA-STS TXT lookup (`_mta-sts.DOMAIN`, asked where DANE does not govern) gets the honest
      // secure denial: this surface attacks the DANE answers; a failed TXT lookup would defer (non-negotiable 1).
      if (q.type === 'TXT') return { variant: 'honest', params: { n: 0, bytes: new Uint8Array() } };
      const slot = slots.get(`${q.name} ${q.type}`);
      const p = slot && current.input ? current.input[slot] : undefined;
      return p ?? { variant: 'servfail', params: { n: 0, bytes: new Uint8Array() } };
    },
    onServe: (s) => current.served.push(s),
  });
  const config = parseConfig({
    myhostname: 'relay.fuzz.test', spool: join(dir, 'spool'),
    dns: { resolvers: [resolver.address], timeout: '0.3s', attempts: 1 },
    tls: { security_level: 'dane' },
    delivery: { port, inet_protocols: 'ipv4', connect_timeout: '3s', command_timeout: '5s', connection_reuse: { max_messages: 0 } },
    log: { level: 'silent' },
  });
  const deliverer = await createDeliverer(config, { logger: pino({ level: 'silent' }) });
  return {
    port, plain, impostor, deliverer, slots, current,
    close: async () => {
      await deliverer.close();
      await Promise.all([plain.close(), impostor.close(), resolver.close()]);
    },
  };
}

function describe(input: Input): string {
  return SLOTS.map((s) => `${s}=${input[s].variant}`).join(' ');
}

type Verdict = { kind: 'ok' } | { kind: 'finding'; field: 'crashes' | 'hangs' | 'wrongDeliveries' | 'lost'; why: string };

function judge(lab: Lab, rcpt: string, outcomes: RecipientOutcome[]): Verdict {
  const allowed = lab.current.served.map((s) => permits(s.variant, s.type));
  const mayPlain = allowed.some((p) => p.plaintext);
  const mayImpostor = allowed.some((p) => p.impostor);
  const atPlain = lab.plain.messages().filter((m) => m.to.includes(rcpt));
  const atImpostor = lab.impostor.messages().filter((m) => m.to.includes(rcpt));
  if (atPlain.length > 0 && !mayPlain) return { kind: 'finding', field: 'wrongDeliveries', why: 'sent in plaintext to mx1 without a well-formed answer permitting it' };
  if (atImpostor.some((m) => !m.secure) && !mayPlain) return { kind: 'finding', field: 'wrongDeliveries', why: 'sent in plaintext to the impostor' };
  if (atImpostor.length > 0 && !mayImpostor) return { kind: 'finding', field: 'wrongDeliveries', why: 'sent to the impostor without a well-formed answer permitting it' };
  const o = outcomes[0];
  if (o?.status === 'bounced') return { kind: 'finding', field: 'lost', why: `bounced ${o.dsn} (${o.diagnostic}) on answers that are not a well-formed denial` };
  if (o?.status === 'sent' && atPlain.length + atImpostor.length === 0) return { kind: 'finding', field: 'lost', why: 'reported sent, received nowhere' };
  if (o === undefined) return { kind: 'finding', field: 'lost', why: 'no outcome for the recipient' };
  return { kind: 'ok' };
}

async function deliverOne(lab: Lab, k: number): Promise<Verdict> {
  const domain = `f${k}.${ZONE}`;
  const rcpt = `r${k}@${domain}`;
  const body = Buffer.from(`From: <fuzz@relay.fuzz.test>\r\nTo: <${rcpt}>\r\nSubject: resolver fuzz ${k}\r\n\r\nbody\r\n`);
  const job = {
    queueId: `FUZZ${k}`, sender: 'fuzz@relay.fuzz.test', domain, recipients: [rcpt], size: body.length,
    smtputf8: false, eightBit: false, receivedAt: Date.now(), attempt: 1, openBody: () => body,
  };
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'hang'>((r) => { timer = setTimeout(() => r('hang'), HANG_BOUND_MS); });
  try {
    const out = await Promise.race([lab.deliverer.deliver(job), bound]);
    if (out === 'hang') return { kind: 'finding', field: 'hangs', why: `delivery not finished within ${HANG_BOUND_MS} ms` };
    return judge(lab, rcpt, out);
  } catch (err) {
    return { kind: 'finding', field: 'crashes', why: `deliver threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `inputs` one after the other against one lab; escaped errors are counted as crashes. `delivered` counts inputs some server received. */
export async function runInputs(inputs: Input[], seed: number, log: (line: string) => void): Promise<{ tally: FuzzTally; delivered: number }> {
  const tally: FuzzTally = { surface: 'resolver', inputs: 0, crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, failures: [] };
  const escaped = (err: unknown): void => {
    tally.crashes++;
    tally.failures.push(`seed ${seed}: escaped error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  };
  process.on('unhandledRejection', escaped);
  process.on('uncaughtException', escaped);
  let delivered = 0;
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-fuzz-resolver-'));
  const lab = await startLab(dir);
  try {
    for (const [i, input] of inputs.entries()) {
      const k = i;
      lab.slots.clear();
      for (const [key, slot] of slotNames(k, lab.port)) lab.slots.set(key, slot);
      lab.current.input = input;
      lab.current.served = [];
      const v = await deliverOne(lab, k);
      tally.inputs++;
      const rcpt = `r${k}@f${k}.${ZONE}`;
      if ([...lab.plain.messages(), ...lab.impostor.messages()].some((m) => m.to.includes(rcpt))) delivered++;
      if (v.kind === 'finding') {
        tally[v.field]++;
        const line = `seed ${seed} input ${i}: ${v.field}: ${v.why} [${describe(input)}] served: ${lab.current.served.map((s) => `${s.type}/${s.variant}/${s.transport}`).join(',')}`;
        tally.failures.push(line);
        log(line);
      }
    }
  } finally {
    await lab.close();
    await rm(dir, { recursive: true, force: true });
    process.off('unhandledRejection', escaped);
    process.off('uncaughtException', escaped);
  }
  return { tally, delivered };
}

export const surface: FuzzSurface = {
  name: 'resolver',
  async run({ iterations, seed, log }) {
    const inputs = fc.sample(inputArb, { seed, numRuns: iterations });
    const { tally: t } = await runInputs(inputs, seed, log);
    log(`resolver: ${t.inputs} inputs, ${t.crashes} crashes, ${t.hangs} hangs, ${t.wrongDeliveries} wrong deliveries, ${t.lost} lost`);
    return t;
  },
};
