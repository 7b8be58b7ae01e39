/**
 * The inbound fuzz surface (issue 19): `iterations` generated hostile SMTP
 * sessions (inbound-session.ts, fast-check seed `sessionSeed(seed, i)` for
 * session i: runs with different seeds never share sessions; a finding
 * names the session seed that replays it alone)
 * against a real relay in a CHILD process (test/fixtures/relay-child.ts:
 * the real serve code, a test deliverer), CONCURRENCY sessions at a time.
 *
 * Findings:
 * - crashes: the child exited while the run went on (its stderr tail and the
 *   seeds in flight are kept); it is restarted and the run goes on;
 * - hangs: a session that got no owed reply, or was not closed after a stall
 *   or half-close, within its bound (inbound-driver.ts);
 * - wrongDeliveries: a client outside mynetworks got a message queued (open
 *   relay), or a smuggled transaction (to `smuggled@victim.test`) was
 *   delivered as a message of its own;
 * - lost: a `250`-acknowledged message neither delivered nor still queued at
 *   the end (test/fixtures/spool-audit.ts).
 * The relay runs with a 2 s idle timeout (so stalls end quickly) and a 64 KiB
 * size limit (so oversize bodies are cheap); everything on loopback.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChild, type RelayChild } from '../relay/child.ts';
import { auditAcked } from '../fixtures/spool-audit.ts';
import { playSession, type DriverBounds } from './inbound-driver.ts';
import { SMUGGLED_RCPT, sessionFor } from './inbound-session.ts';
import type { FuzzSurface, FuzzTally } from './surface.ts';


/**
 * The fast-check seed of session `i` of a run seeded `seed`. Spread by a multiplicative hash, so that runs
 * seeded 1 and 2 do not share 8,999 of 9,000 sessions (as `seed + i` did); 32-bit, as fast-check wants.
 */
export function sessionSeedOf(seed: number, i: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) + i) | 0;
}

const CONCURRENCY = 12;
const IDLE_TIMEOUT_S = 2;
const BOUNDS: DriverBounds = { replyMs: 15_000, closeMs: IDLE_TIMEOUT_S * 1000 + 15_000 };

function relayConfig(dir: string, port: number): string {
  return [
    'myhostname: relay.test',
    `listen: ["127.0.0.1:${port}"]`,
    `spool: ${join(dir, 'spool')}`,
    'mynetworks: ["127.0.0.1/32"]',
    `log: { level: warn, file: ${join(dir, 'relay.log')} }`,
    'queue: { min_backoff: 1s, max_backoff: 2s, scan_interval: 1s }',
    `inbound: { idle_timeout: ${IDLE_TIMEOUT_S}s, max_message_size: 65536, stress: { idle_timeout: ${IDLE_TIMEOUT_S}s } }`,
    '',
  ].join('\n');
}

/** The relay child, restarted after each crash; a crash is counted once per exit. */
class Supervisor {
  private child!: Promise<RelayChild>;
  private stopping = false;
  readonly inFlight = new Set<number>();

  constructor(
    private readonly args: { config: string; delivered: string },
    private readonly onCrash: (what: string) => void,
  ) {}

  start(): Promise<RelayChild> {
    this.child = startChild(this.args).then((c) => {
      void c.exited.then(({ code, signal }) => {
        if (this.stopping) return;
        this.onCrash(`relay child exited (code ${code}, signal ${signal}) with sessions ${[...this.inFlight].join(',')} in flight; stderr: ${c.stderr().slice(-2000)}`);
        void this.start();
      });
      return c;
    });
    return this.child;
  }

  current(): Promise<RelayChild> {
    return this.child;
  }

  async stop(): Promise<string> {
    this.stopping = true;
    const c = await this.child.catch(() => undefined);
    if (!c) return '';
    c.proc.kill('SIGTERM');
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
    await c.exited;
    clearTimeout(timer);
    return c.stderr();
  }
}

export const surface: FuzzSurface = {
  name: 'inbound',
  async run({ iterations, seed, log }): Promise<FuzzTally> {
    const tally: FuzzTally = { surface: 'inbound', inputs: 0, crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, failures: [] };
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-fuzz-inbound-'));
    const delivered = join(dir, 'delivered');
    const config = join(dir, 'relay.yaml');
    await writeFile(delivered, '');
    await writeFile(config, relayConfig(dir, await freePort()));
    const supervisor = new Supervisor({ config, delivered }, (what) => {
      tally.crashes++;
      tally.failures.push(`crash (seed ${seed}): ${what}`);
      log(`inbound: CRASH ${what.slice(0, 300)}`);
    });
    /** acknowledged queue id -> the seed of the session that got the 250 */
    const acked = new Map<string, number>();
    let next = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < iterations) {
        const i = next++;
        const sessionSeed = sessionSeedOf(seed, i);
        supervisor.inFlight.add(sessionSeed);
        try {
          const { port } = await supervisor.current();
          let outcome = await playSession(port, sessionFor(sessionSeed), BOUNDS);
          if (outcome.unavailable) outcome = await playSession((await supervisor.current()).port, sessionFor(sessionSeed), BOUNDS);
          tally.inputs++;
          for (const id of outcome.acked) acked.set(id, sessionSeed);
          if (outcome.hang) {
            tally.hangs++;
            tally.failures.push(`hang: session seed ${sessionSeed}: ${outcome.hang}`);
          }
          if (outcome.openRelay) {
            tally.wrongDeliveries++;
            tally.failures.push(`open relay: session seed ${sessionSeed} (outside mynetworks) got ${outcome.acked.join(',')} queued`);
          }
        } finally {
          supervisor.inFlight.delete(sessionSeed);
        }
        if (tally.inputs % 1000 === 0) log(`inbound: ${tally.inputs}/${iterations} sessions, ${acked.size} acknowledged, ${Math.round((Date.now() - started) / 1000)} s`);
      }
    };
    try {
      await supervisor.start();
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const audit = await auditAcked({ acked: acked.keys(), deliveredFile: delivered, spoolDir: join(dir, 'spool'), waitMs: 30_000 });
      tally.lost = audit.lost.length;
      if (audit.lost.length > 0) tally.failures.push(`lost (seed ${seed}): ${audit.lost.length} acknowledged message(s): ${audit.lost.slice(0, 20).join(',')}`);
      if (audit.recipients.has(SMUGGLED_RCPT)) {
        const lines = (await readFile(delivered, 'utf8')).split('\n').filter((l) => l.endsWith(` ${SMUGGLED_RCPT}`));
        const seeds = lines.map((l) => acked.get(l.split(' ')[0] ?? '') ?? 'unknown');
        tally.wrongDeliveries += lines.length;
        tally.failures.push(`smuggling: a transaction hidden in a message body was delivered to ${SMUGGLED_RCPT}: session seed(s) ${seeds.join(',')}`);
      }
      log(`inbound: ${tally.inputs} sessions in ${Math.round((Date.now() - started) / 1000)} s; ${acked.size} acknowledged: ${audit.delivered.size} delivered, ${audit.queued.length} still queued, ${audit.lost.length} lost`);
    } finally {
      const stderr = await supervisor.stop();
      if (/Warning/.test(stderr)) log(`inbound: relay stderr: ${stderr.slice(-1000)}`);
      await rm(dir, { recursive: true, force: true });
    }
    return tally;
  },
};
