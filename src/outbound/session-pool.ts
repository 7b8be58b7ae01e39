/**
 * Idle verified SMTP sessions kept for reuse (checklist C31, C33).
 *
 * Contract:
 * - A session is filed under a key made of everything its verification
 *   depended on: next hop, MX host, IP, port, effective level, TLSA base,
 *   SNI and the canonical text of the authentication data (TLSA RRset, reference names,
 *   half-dane flag, fingerprints). A message only ever takes a session whose
 *   key equals the key computed for it from fresh DNS/policy data, so a
 *   policy change (new TLSA RRset, level) never rides on an old session (C31).
 * - `acquire` hands out an idle session after a successful RSET (liveness and
 *   clean state); a session that fails RSET is closed and the next tried.
 * - `release` keeps a live session until `maxMessages` uses, and closes it
 *   (QUIT) after `idleTimeoutMs` idle; dead sessions are dropped. The idle
 *   timer is unref'd so it never keeps the process alive.
 * - Nothing learned from a failure is stored here (C33): only sessions that
 *   were verified under their policy.
 */
import type { EffectivePolicy, PeerAuthentication } from '../core/effective-policy.ts';
import type { SmtpSession } from './session.ts';

export interface PoolKeyParts {
  nextHop: string;
  mxHost: string;
  ip: string;
  port: number;
  policy: Extract<EffectivePolicy, { kind: 'connect' }>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Canonical text of what a session's verification depended on. */
function authText(auth: PeerAuthentication): string {
  const canon = auth.kind === 'dane'
    ? { k: auth.kind, r: auth.records.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${hex(r.data)}`).sort(), n: [...auth.referenceNames].sort(), h: auth.halfDane }
    : auth.kind === 'fingerprint'
      ? { k: auth.kind, f: auth.fingerprints.map((f) => `${f.algorithm}:${f.digest}`).sort() }
      : auth.kind === 'pkix' ? { k: auth.kind, n: [...auth.referenceNames].sort() } : { k: auth.kind };
  return JSON.stringify(canon);
}

/** C31: next hop + MX host + IP + port + level + TLSA base + SNI + RRset/auth data. */
export function poolKey(p: PoolKeyParts): string {
  const pol = p.policy;
  return [p.nextHop, p.mxHost, p.ip, p.port, pol.level, pol.tlsRequired ? 'req' : 'opt', pol.tlsaBase ?? '-', pol.sni ?? '-', authText(pol.auth)].join('|');
}

export interface PoolLimits { maxMessages: number; idleTimeoutMs: number }

interface Idle { session: SmtpSession; timer: NodeJS.Timeout }

/** A session this recently finished with 250 is reused without RSET. */
const FRESH_MS = 1000;

export class SessionPool {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;
  /** Sessions handed out again (for tests and metrics). */
  reuses = 0;

  constructor(private readonly limits: PoolLimits) {}

  get enabled(): boolean {
    return this.limits.maxMessages > 1 && !this.closed;
  }

  /**
   * An idle session for `key`, or null. A session whose last transaction
   * completed less than FRESH_MS ago is handed out as is (it is in the
   * initial state); any other is first checked with RSET, as Postfix checks
   * a cached session, and dropped when RSET fails.
   */
  async acquire(key: string): Promise<SmtpSession | null> {
    for (;;) {
      const list = this.idle.get(key);
      const entry = list?.pop();
      if (list && list.length === 0) this.idle.delete(key);
      if (!entry) return null;
      clearTimeout(entry.timer);
      if (!entry.session.alive) continue;
      const clean = entry.session.cleanSince;
      if (clean !== null && Date.now() - clean < FRESH_MS) {
        this.reuses++;
        return entry.session;
      }
      if (await entry.session.reset()) {
        this.reuses++;
        return entry.session;
      }
    }
  }

  /** Give a session back after a message; it is kept only if reusable. */
  release(key: string, session: SmtpSession): void {
    if (!this.enabled || !session.alive || session.state !== 'ready' || session.uses >= this.limits.maxMessages) {
      session.quit();
      return;
    }
    const timer = setTimeout(() => this.expire(key, session), this.limits.idleTimeoutMs);
    timer.unref();
    const list = this.idle.get(key) ?? [];
    list.push({ session, timer });
    this.idle.set(key, list);
  }

  private expire(key: string, session: SmtpSession): void {
    const list = this.idle.get(key);
    if (!list) return;
    const i = list.findIndex((e) => e.session === session);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(key);
    session.quit();
  }

  /** Number of idle sessions (all keys). */
  size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** QUIT every idle session; later releases just close. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const e of list) { clearTimeout(e.timer); e.session.quit(); }
    }
    this.idle.clear();
  }
}
