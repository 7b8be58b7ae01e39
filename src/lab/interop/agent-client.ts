/**
 * Host-side client of ns-agent.ts: starts the agent inside the lab namespace
 * and sends it commands (JSON lines), one answer per command.
 *
 * Contract: every command resolves with the agent's answer or rejects on
 * `ok: false`, on a timeout (default 30 s), or when the agent exits.
 * `close()` ends the agent's stdin (it closes its servers and exits) and
 * waits for it, killing it after 5 s. The agent process is also tracked by
 * the lab handle, so `lab.down()` kills it by PID if a test forgot to close.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReceivedMessage, SessionRecord } from '../mx-server.ts';
import type { NetnsLab } from './netns-lab.ts';

export type AgentCommand = { id: number } & (
  | {
    op: 'startMx'; label: string; host: string; port: number;
    mode: 'starttls' | 'no-starttls' | 'plaintext-only' | 'handshake-fail';
    /** PEM bundle, leaf first, and the leaf's private key. */
    certPem?: string; keyPem?: string; certName?: string; greetingName?: string;
  }
  | { op: 'submit'; host: string; port: number; from: string; to: string[]; subject: string; text: string; messageId?: string }
  | { op: 'state' }
);

type Without<T> = T extends unknown ? Omit<T, 'id'> : never;
export type AgentRequest = Without<AgentCommand>;

export interface MxState { messages: ReceivedMessage[]; sessions: SessionRecord[] }

export interface NsAgent {
  send(cmd: AgentRequest, timeoutMs?: number): Promise<Record<string, unknown>>;
  state(): Promise<Record<string, MxState>>;
  close(): Promise<void>;
}

const AGENT = fileURLToPath(new URL('./ns-agent.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
    const t = setTimeout(() => { child.kill('SIGKILL'); }, ms);
    child.once('exit', () => { clearTimeout(t); done(); });
  });
}

export async function startNsAgent(lab: NetnsLab): Promise<NsAgent> {
  const child = lab.spawnInNs(process.execPath, ['--import', 'tsx', AGENT], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ready!: () => void;
  let failReady!: (e: Error) => void;
  const readyP = new Promise<void>((res, rej) => { ready = res; failReady = rej; });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    if (msg.ready === true) { ready(); return; }
    const w = waiting.get(msg.id as number);
    if (!w) return;
    waiting.delete(msg.id as number);
    if (msg.ok === true) w.resolve(msg); else w.reject(new Error(`ns-agent: ${String(msg.error)}`));
  });
  child.once('exit', (code) => {
    const e = new Error(`ns-agent exited (${code}): ${stderr}`);
    failReady(e);
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  });
  const readyTimer = setTimeout(() => failReady(new Error(`ns-agent not ready after 20 s: ${stderr}`)), 20_000);
  await readyP.finally(() => clearTimeout(readyTimer));

  const send = (cmd: AgentRequest, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { waiting.delete(id); reject(new Error(`ns-agent: ${cmd.op} timed out`)); }, timeoutMs);
      waiting.set(id, {
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      });
      child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  };
  return {
    send,
    state: async () => (await send({ op: 'state' })).mx as Record<string, MxState>,
    close: async () => { child.stdin?.end(); await waitExit(child, 5000); },
  };
}
