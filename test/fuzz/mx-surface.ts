/**
 * The hostile-MX surface of the fault suite (issue 19): random MX behaviours
 * (fast-check, replayable from the seed) against the relay's real delivery
 * path (createDeliverer → route → DANE policy → nodemailer adapter → verify),
 * with a lab resolver publishing a secure `3 1 1` TLSA record for the good
 * key of mx1.dane.test and the hostile MX (src/lab/hostile-mx.ts) on
 * 127.0.0.2.
 *
 * Counted per input:
 * - wrong delivery: a message reached the MX over plaintext or over TLS with a
 *   leaf that is not the DANE key (C14, C16);
 * - lost: the relay reported `sent` but the MX holds no new message;
 * - hang: the delivery outlived the sum of its stage deadlines plus a margin;
 * - crash: deliver() rejected, or an uncaughtException/unhandledRejection was
 *   seen while the input ran;
 * - a bounce (a hostile MX only ever gives timeouts, resets, garbage and
 *   TLS failures: all transient) is listed in `failures` too.
 */
import fc from 'fast-check';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import {
  CHAIN_MODES, HOSTILE_ACTIONS, HOSTILE_STAGES, createHostileCerts, startHostileMx, type HostileBehaviour,
} from '../../src/lab/hostile-mx.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { openBudget, sendBudget, type StageBudgets } from '../../src/outbound/deadline.ts';
import { deliveryOptionsFrom } from '../../src/outbound/options.ts';
import { collectingLogger, job, startLab, testConfig, tlsa } from '../outbound/helpers.ts';
import type { FuzzSurface, FuzzTally } from './surface.ts';

/** Every stage deadline, seconds: small so that a run of many inputs stays short. */
const D = 0.25;
const MARGIN_MS = 2000;

const behaviour: fc.Arbitrary<HostileBehaviour> = fc.record({
  stage: fc.option(fc.constantFrom(...HOSTILE_STAGES), { nil: undefined, freq: 5 }),
  action: fc.constantFrom(...HOSTILE_ACTIONS),
  chain: fc.constantFrom(...CHAIN_MODES),
  starttls: fc.constantFrom(true, true, true, false),
  pipelining: fc.boolean(),
  dripMs: fc.integer({ min: 2, max: 40 }),
}, { requiredKeys: ['action', 'chain', 'starttls', 'pipelining', 'dripMs'] });

/** Upper bound of one delivery: setting up (one address, no plaintext retry at dane) plus one transaction. */
function boundMs(d: StageBudgets, size: number): number {
  return openBudget(d) + sendBudget(d, size, 1) + MARGIN_MS;
}

async function run(opts: { iterations: number; seed: number; log: (line: string) => void }): Promise<FuzzTally> {
  const tally: FuzzTally = { surface: 'mx', inputs: 0, crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, failures: [] };
  const inputs = fc.sample(behaviour, { seed: opts.seed, numRuns: opts.iterations });
  const certs = await createHostileCerts('mx1.dane.test');
  const lab = await startLab([]);
  lab.resolver.setZones([{
    origin: 'dane.test', signed: true, records: [
      { name: 'dane.test', type: 'MX', data: { preference: 10, exchange: 'mx1.dane.test' } },
      { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
      { name: `_${lab.port}._tcp.mx1.dane.test`, type: 'TLSA', data: tlsa(3, 1, 1, tlsaDataFor(certs.good.der, 1, 1)) },
    ],
  }]);
  const mx = await startHostileMx({ host: '127.0.0.2', port: lab.port, certs });
  const config = testConfig(lab.port, {
    delivery: {
      port: lab.port, connect_timeout: 1, command_timeout: 30, helo_timeout: D, starttls_timeout: D, mail_timeout: D,
      rcpt_timeout: D, data_init_timeout: D, data_xfer_timeout: D, data_done_timeout: D, rset_timeout: D, quit_timeout: D,
      connection_reuse: { max_messages: 0 },
    },
  });
  const escaped: string[] = [];
  const onEscape = (e: unknown): void => { escaped.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e)); };
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  try {
    for (const [i, b] of inputs.entries()) {
      tally.inputs++;
      const replay = `seed=${opts.seed} input=${i} ${JSON.stringify(b)}`;
      await one(b, replay);
    }
  } finally {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    await mx.close();
    await lab.close();
  }
  return tally;

  async function one(b: HostileBehaviour, replay: string): Promise<void> {
    const before = mx.stats.messages.length;
    escaped.length = 0;
    mx.setBehaviour(b);
    const { logger } = collectingLogger();
    const d = await createDeliverer(config, { logger, dns: lab.dns });
    const j = job('dane.test', ['a@dane.test']);
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => { timer = setTimeout(() => resolve('hang'), boundMs(deliveryOptionsFrom(config).deadlines, j.size)); });
    try {
      const out = await Promise.race([d.deliver(j), hang]);
      if (out === 'hang') { tally.hangs++; tally.failures.push(`hang: ${replay}`); return; }
      const fresh = mx.stats.messages.slice(before);
      const wrong = fresh.filter((m) => !m.secure || !m.goodLeaf);
      if (wrong.length > 0) { tally.wrongDeliveries++; tally.failures.push(`wrong delivery (${JSON.stringify(wrong)}): ${replay}`); }
      const o = out[0];
      if (o?.status === 'sent' && fresh.length === 0) { tally.lost++; tally.failures.push(`lost: sent but not received: ${replay}`); }
      if (o?.status === 'bounced') tally.failures.push(`bounce ${o.dsn} ${o.diagnostic}: ${replay}`);
      opts.log(`${replay} -> ${o?.status} ${o?.dsn} ${o?.diagnostic ?? ''}`);
    } catch (err) {
      tally.crashes++;
      tally.failures.push(`crash (${(err as Error).message}): ${replay}`);
    } finally {
      clearTimeout(timer);
      await d.close();
      await new Promise((r) => setImmediate(r)); // let an escaping error of this input surface before counting
      if (escaped.length > 0) { tally.crashes++; tally.failures.push(`escaped ${escaped.join('; ')}: ${replay}`); }
    }
  }
}

export const surface: FuzzSurface = { name: 'mx', run };
