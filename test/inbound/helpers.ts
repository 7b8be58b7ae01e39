/**
 * One inbound listener on 127.0.0.1:0 for a test: a fresh spool, the
 * configuration built from `overrides` (myhostname relay.test), a logger whose
 * events the test can read, and clean-up however the test ends.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { InboundServer } from '../../src/inbound/server.ts';
import { Spool } from '../../src/queue/spool.ts';
import { tempSpool } from '../queue/helpers.ts';

export interface InboundCtx {
  port: number;
  spool: Spool;
  server: InboundServer;
  /** Queue ids in the order the server reported them queued. */
  queued: string[];
  /** Every log event the server wrote (parsed JSON lines). */
  events: Array<Record<string, unknown>>;
  /** Applies a new configuration built from `overrides`, as SIGHUP does. */
  reconfigure: (overrides: Record<string, unknown>) => void;
}

/** `spoolDir`: the spool's root (default: a fresh temp directory, removed at the end). */
export async function withInbound(overrides: Record<string, unknown>, fn: (ctx: InboundCtx) => Promise<void>, spoolDir?: string): Promise<void> {
  const { spool, dir, cleanup } = spoolDir ? { spool: await Spool.open(spoolDir), dir: spoolDir, cleanup: async () => undefined } : await tempSpool();
  const build = (o: Record<string, unknown>) => parseConfig({ listen: ['127.0.0.1:0'], spool: dir, myhostname: 'relay.test', ...o });
  const events: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) events.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const queued: string[] = [];
  const server = new InboundServer({ config: build(overrides), spool, logger: pino({ level: 'info' }, sink), onQueued: (id) => queued.push(id) });
  try {
    const [addr] = await server.listen();
    await fn({ port: addr?.port ?? 0, spool, server, queued, events, reconfigure: (o) => server.reload(build(o)) });
  } finally {
    await server.close(100);
    await spool.close();
    await cleanup();
  }
}
