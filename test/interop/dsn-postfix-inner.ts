/**
 * Runs INSIDE a network namespace (started by dsn-postfix.test.ts): the same
 * DSN cases through a private Postfix (the yardstick) and through dane-relay,
 * both relaying to the same loopback sink MX, which also receives the DSNs
 * (the sender's domain routes there). Prints one JSON line on stdout:
 * per side and case, the queue id, whether a DSN was owed (from each MTA's
 * own log: "sender ... notification: QID" before "QID: removed"), the DSN
 * parsed with mailparser, and what the next hop saw of the DSN parameters.
 * Every wait is bounded; Postfix is stopped and everything closed at the end.
 */
import { writeSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { relayConfigSchema } from '../../src/config/schema.ts';
import { writePostfixInstance, type PostfixInstance } from '../../src/lab/interop/postfix.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { startRelay } from '../../src/relay.ts';
import { RawSmtp } from '../fixtures/smtp-client.ts';
import { parseDsn } from '../queue/dsn-fixtures.ts';
import { chmod } from 'node:fs/promises';
import { allowExplicitEnhancedCodes } from '../../src/inbound/reply-codes.ts';

const SINK_DSN = 2601;
const SINK_NODSN = 2602;
const POSTFIX = 2611;

interface Sunk { from: string; to: string[]; data: string; dsn: unknown; rcptDsn: unknown[] }

async function sink(port: number, dsn: boolean, got: Sunk[]): Promise<SMTPServer> {
  const s = new SMTPServer({
    logger: false, authOptional: true, disableReverseLookup: true, hideDSN: !dsn, hideENHANCEDSTATUSCODES: false, disabledCommands: ['STARTTLS', 'AUTH'],
    name: `sink${port}.test`,
    onRcptTo(a, _s, cb) {
      if (a.address.startsWith('ghost')) return cb(Object.assign(new Error('5.1.1 <' + a.address + '>: Recipient address rejected: User unknown'), { responseCode: 550 }));
      if (a.address.startsWith('slow')) return cb(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 }));
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        got.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(parts).toString('utf8'), dsn: (session.envelope as { dsn?: unknown }).dsn,
          rcptDsn: session.envelope.rcptTo.map((r) => (r as { dsn?: unknown }).dsn ?? null),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
}

export interface Case { name: string; mail: string; rcpt: string }
export const CASES: Case[] = [
  { name: 'A-failed-full', mail: 'RET=FULL ENVID=case-A', rcpt: '<ghost-a@dst.test> NOTIFY=FAILURE ORCPT=rfc822;Ghost-A@dst.test' },
  { name: 'B-failed-hdrs', mail: 'RET=HDRS', rcpt: '<ghost-b@dst.test>' },
  { name: 'C-never', mail: '', rcpt: '<ghost-c@dst.test> NOTIFY=NEVER' },
  { name: 'D-relayed', mail: 'ENVID=case-D', rcpt: '<bob-d@nodsn.test> NOTIFY=SUCCESS ORCPT=rfc822;bob-d@nodsn.test' },
  { name: 'E-success-dsn-hop', mail: 'RET=HDRS ENVID=case-E', rcpt: '<bob-e@dst.test> NOTIFY=SUCCESS ORCPT=rfc822;bob-e@dst.test' },
  { name: 'F-delayed', mail: '', rcpt: '<slow-f@dst.test> NOTIFY=DELAY,FAILURE' },
  { name: 'G-notify-no-orcpt', mail: '', rcpt: '<bob-g@dst.test> NOTIFY=SUCCESS' },
];

async function submit(port: number, c: Case): Promise<string> {
  const s = await RawSmtp.connect(port);
  try {
    await s.greeting;
    await s.cmd('EHLO client.src.test');
    const m = await s.cmd(`MAIL FROM:<alice@src.test>${c.mail ? ' ' + c.mail : ''}`);
    if (!m.startsWith('250')) throw new Error(`${c.name}: MAIL: ${m}`);
    const r = await s.cmd(`RCPT TO:${c.rcpt}`);
    if (!r.startsWith('250')) throw new Error(`${c.name}: RCPT: ${r}`);
    await s.cmd('DATA');
    s.write(`From: alice@src.test\r\nTo: someone@dst.test\r\nSubject: ${c.name}\r\nMessage-ID: <${c.name}@src.test>\r\n\r\nbody of ${c.name}\r\n.\r\n`);
    const reply = await s.reply(10_000);
    const id = /queued as ([0-9A-Z]+)/.exec(reply)?.[1];
    if (!id) throw new Error(`${c.name}: ${reply}`);
    return id;
  } finally {
    s.close();
  }
}

/**
 * Polls `cond` every 100 ms until it holds or `ms` of wall time have passed. The bound is time, not a
 * count of polls: a poll that itself takes seconds (a port that accepts but does not greet) once
 * stretched a "15 s" wait past the outer run's 300 s bound.
 */
async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export interface CompactDsn { subject: string; parts: string[]; perMessage: Record<string, string>; perRecipient: Array<Record<string, string>>; bodyReturned: boolean }

async function dsnOf(got: Sunk[], c: Case): Promise<CompactDsn | null> {
  const m = got.find((x) => x.from === '' && x.data.includes(`Subject: ${c.name}`));
  if (!m) return null;
  const d = await parseDsn(Buffer.from(m.data));
  return { subject: d.mail.subject ?? '', parts: d.parts, perMessage: d.perMessage, perRecipient: d.perRecipient, bodyReturned: d.returned.includes(`body of ${c.name}`) };
}

function seenByHop(got: Sunk[], c: Case) {
  const m = got.find((x) => x.from === 'alice@src.test' && x.data.includes(`Subject: ${c.name}`));
  return m ? { dsn: m.dsn, rcptDsn: m.rcptDsn } : null;
}

/** Progress on stderr, written at once: an inner run killed at its bound says where it was. */
const phase = (what: string): void => { writeSync(2, `[dsn-inner ${new Date().toISOString()}] ${what}\n`); };

/** SIGKILLs the master of `pf` named by its PID file, if one runs. */
async function killMaster(pf: PostfixInstance): Promise<void> {
  const pid = Number((await readFile(pf.masterPidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/**
 * `postfix start`, bounded: seen hanging inside postfix-script in full-suite runs (the
 * inner run then sat at "postfix start" until its outer bound). The command's process
 * group is killed with SIGKILL at 30 s and not waited for (runBounded); Postfix counts as
 * started once its port answers 220 (each probe bounded, the wait bounded by wall time).
 * Three attempts, a leftover master killed between them.
 */
/**
 * Runs a command in a process group of its own, at most `ms`: then the whole group is SIGKILLed and
 * the run ends without waiting for its exit (a process stuck in the kernel cannot hold this run).
 */
function runBounded(cmd: string, args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => {
      try { process.kill(-(child.pid as number), 'SIGKILL'); } catch { /* gone */ }
      resolve(`killed after ${ms} ms`);
    }, ms);
    child.once('error', (e) => { clearTimeout(timer); resolve(e.message); });
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve(code === 0 ? 'ok' : `status ${code}, signal ${signal}: ${err.trim()}`); });
  });
}

/** The Postfix processes on the machine with their state and kernel wait channel (diagnostics for a stuck start). */
function postfixProcesses(): string {
  try {
    const ps = execFileSync('ps', ['-eo', 'pid,ppid,stat,wchan:24,etime,args'], { encoding: 'utf8', timeout: 5000 });
    return ps.split('\n').filter((l, i) => i === 0 || /postfix|master|smtpd|qmgr|pickup|postlog|tlsmgr|anvil|cleanup/.test(l)).join('\n');
  } catch (err) {
    return `ps failed: ${String(err)}`;
  }
}

async function startPostfix(pf: PostfixInstance): Promise<boolean> {
  const [cmd, ...args] = pf.startCommand;
  // One probe: connect and read the greeting, within 3 s in all (a connect whose SYN is dropped can take minutes).
  const answers = async (): Promise<boolean> => {
    const probe = RawSmtp.connect(POSTFIX).then(async (s) => {
      const g = await s.greeting.catch(() => '');
      s.close();
      return g.startsWith('220');
    }, () => false);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 3000); });
    const ok = await Promise.race([probe, bound]);
    clearTimeout(timer);
    return ok;
  };
  for (let attempt = 1; attempt <= 3; attempt++) {
    phase(`postfix start (attempt ${attempt})`);
    const r = await runBounded(cmd!, args, 30_000);
    if (r !== 'ok') phase(`postfix start: ${r}`);
    if (await until(answers, 45_000)) return true;
    phase(`postfix not answering; its processes:\n${postfixProcesses()}`);
    await killMaster(pf);
  }
  return false;
}

async function runPostfix(base: string, got: Sunk[]) {
  const pf = await writePostfixInstance({ baseDir: join(base, 'postfix'), smtpdPort: POSTFIX, relayhost: { host: '127.0.0.1', port: SINK_DSN }, myhostname: 'postfix.lab.test' });
  await appendFile(join(pf.configDir, 'main.cf'), `transport_maps = inline:{ nodsn.test=smtp:[127.0.0.1]:${SINK_NODSN} }\ndelay_warning_time = 2s\nqueue_run_delay = 1s\nminimal_backoff_time = 1s\nmaximal_backoff_time = 2s\n`);
  try {
    const up = await startPostfix(pf);
    if (!up) throw new Error(`postfix did not start: ${await readFile(pf.logFile, 'utf8').catch(() => 'no log')}`);
    const ids: Record<string, string> = {};
    phase('postfix up; submitting');
    for (const c of CASES) ids[c.name] = await submit(POSTFIX, c);
    const log = async () => readFile(pf.logFile, 'utf8').catch(() => '');
    const out: Record<string, unknown> = {};
    for (const c of CASES) {
      const id = ids[c.name]!;
      const final = c.name.startsWith('F') ? `${id}: sender delay notification` : `${id}: removed`;
      const ended = await until(async () => (await log()).includes(final), 30_000);
      phase(`postfix case ${c.name}: ${ended ? 'ended' : 'NOT ended after 30 s'}`);
      const text = await log();
      const owed = new RegExp(`${id}: sender (non-delivery|delivery status|delay) notification`).test(text);
      if (owed) await until(async () => (await dsnOf(got, c)) !== null, 15_000);
      out[c.name] = { qid: id, ended, owed, dsn: await dsnOf(got, c), hop: seenByHop(got, c) };
    }
    out.log = (await log()).split('\n').filter((l) => Object.values(ids).some((id) => l.includes(id))).map((l) => l.replace(/^.*?postfix\//, 'postfix/'));
    return out;
  } finally {
    const [scmd, ...sargs] = pf.stopCommand;
    phase('postfix stop');
    // Bounded: a `postfix stop` seen hanging in `postfix-script` (full suite, another Postfix running) must not
    // hold the whole inner run to its 180 s bound; the master is then stopped by its PID below.
    const stopped = await runBounded(scmd!, sargs, 20_000);
    if (stopped !== 'ok') process.stderr.write(`postfix stop: ${stopped}\n`);
    // The master we started, by its PID file, if `postfix stop` left it running (bounded wait).
    const pid = Number((await readFile(pf.masterPidFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) {
      const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
      if (alive()) process.kill(pid, 'SIGTERM');
      await until(() => !alive(), 10_000);
    }
  }
}

async function runRelay(base: string, got: Sunk[]) {
  const events: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => { events.push(JSON.parse(l) as Record<string, unknown>); } } as never);
  const config = relayConfigSchema.parse({
    myhostname: 'relay.lab.test', listen: ['127.0.0.1:2625'], spool: join(base, 'spool'),
    dns: { resolvers: ['127.0.0.1:53'] },
    tls: { security_level: 'may' },
    delivery: { transport: { 'dst.test': `[127.0.0.1]:${SINK_DSN}`, 'src.test': `[127.0.0.1]:${SINK_DSN}`, 'nodsn.test': `[127.0.0.1]:${SINK_NODSN}` } },
    queue: { delay_warning_time: '2s', min_backoff: '1s', max_backoff: '2s' },
  });
  const deliverer = await createDeliverer(config, { logger });
  const relay = await startRelay(config, { deliverer, logger });
  try {
    const ids: Record<string, string> = {};
    phase('relay up; submitting');
    for (const c of CASES) ids[c.name] = await submit(2625, c);
    const out: Record<string, unknown> = {};
    for (const c of CASES) {
      const id = ids[c.name]!;
      const isEnd = (e: Record<string, unknown>) => e.qid === id && (c.name.startsWith('F') ? e.event === 'dsn-delayed' : e.event === 'removed');
      const ended = await until(() => events.some(isEnd), 30_000);
      const owed = events.some((e) => e.qid === id && (e.event === 'bounce' || e.event === 'dsn-relayed' || e.event === 'dsn-delayed'));
      if (owed) await until(async () => (await dsnOf(got, c)) !== null, 15_000);
      out[c.name] = { qid: id, ended, owed, dsn: await dsnOf(got, c), hop: seenByHop(got, c) };
    }
    out.log = events.filter((e) => Object.values(ids).includes(String(e.qid))).map((e) => String(e.msg));
    return out;
  } finally {
    await relay.stop({ graceMs: 200 });
  }
}

// The relay's inbound patches smtp-server's replies process-wide (explicit enhanced codes); patch
// before the Postfix run too, so both MTAs get byte-identical replies from the sink.
allowExplicitEnhancedCodes();
const base = await mkdtemp(join(tmpdir(), 'drdsn-'));
await chmod(base, 0o755);
const pfGot: Sunk[] = [];
const relayGot: Sunk[] = [];
let sinks = [await sink(SINK_DSN, true, pfGot), await sink(SINK_NODSN, false, pfGot)];
try {
  const postfix = await runPostfix(base, pfGot);
  for (const s of sinks) await new Promise<void>((r) => s.close(() => r()));
  sinks = [await sink(SINK_DSN, true, relayGot), await sink(SINK_NODSN, false, relayGot)];
  const relay = await runRelay(base, relayGot);
  process.stdout.write(JSON.stringify({ postfix, relay }) + '\n');
} finally {
  for (const s of sinks) await new Promise<void>((r) => s.close(() => r()));
  await rm(base, { recursive: true, force: true });
}
