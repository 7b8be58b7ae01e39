/**
 * Reads Postfix-format maillog lines — any Postfix's own log, or the relay's
 * `log.format: postfix` / `log.maillog` output (src/log/postfix-format.ts) —
 * into the report's typed events, so `dane-relay report` audits the transport
 * security of any Postfix's past deliveries.
 *
 * Lines: syslog with an RFC 3339 timestamp (rsyslog, postlogd) or a
 * traditional one (`Dec  1 15:00:00`, year inferred: a month after the
 * current one is last year's), then `HOST NAME/PROGRAM[PID]: TEXT`, where
 * NAME is any syslog name (`postfix`, `postfix-out`, `dane-relay`).
 *
 * Joining a delivery to its TLS session (Postfix logs the TLS state on a line
 * of its own): per `smtp` process (PID), a `… TLS connection established to
 * HOST[IP]:PORT` line is the session of the next status line naming that
 * relay; further status lines of the same message, or with `conn_use=N`
 * (N ≥ 2, a cached connection), belong to the same session. A first-use status
 * line with no TLS line before it was sent in plaintext (state `none`). `tls=` on a status
 * line (Postfix 3.10+ `smtp_log_tls_feature_status`) is carried as the
 * feature. Local deliveries (local, virtual, pipe) are not transport and are
 * skipped; `error` and `qmgr` status lines (relay=none) count as outcomes. Contract: never throws; a line that is not a Postfix line, or not
 * one the report needs, returns [] (counted as skipped by the caller).
 */
import type { LogEvent, Status, LoggedTlsState } from './event.ts';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))\s+\S+\s+(.*)$/;
const TRADITIONAL = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\s+\S+\s+(.*)$/;
const PROGRAM = /^[\w.-]+(?:\/[\w.-]+)*\/(smtp|lmtp|qmgr|error)\[(\d+)\]: (.*)$/;
const TLS_LINE = /^(Verified|Trusted|Untrusted|Anonymous) TLS connection established to (\S+?): /;
const STATUS_LINE = /^(\w+): to=<([^>]*)>, (?:orig_to=<[^>]*>, )?relay=([^,]+), (?:conn_use=(\d+), )?delay=[^,]+, (?:delays=[^,]+, )?(?:tls=([^,]+), )?(?:dsn=([^,]+), )?status=(\w+) \((.*)\)$/;
const FROM_LINE = /^(\w+): from=<[^>]*>, size=(\d+), nrcpt=(\d+)/;
const EXPIRED_LINE = /^(\w+): from=<[^>]*>, status=expired/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SEEN_LIMIT = 200_000;
const STATUSES: readonly string[] = ['sent', 'deferred', 'bounced', 'expired'];

interface Session { relay: string; state: LoggedTlsState; qid?: string }

export class PostfixMaillogReader {
  /** Per smtp PID: the TLS line not yet joined to a status line, and the session in use. */
  private readonly pending = new Map<string, Session>();
  private readonly current = new Map<string, Session>();
  /** qmgr logs `from=… (queue active)` at every retry: count a message once (the last SEEN_LIMIT ids). */
  private readonly seen = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  read(line: string): LogEvent[] {
    const head = this.split(line);
    if (!head) return [];
    const m = PROGRAM.exec(head.rest);
    if (!m) return [];
    const [, program = '', pid = '', text = ''] = m;
    if (program === 'qmgr') {
      const q = this.qmgr(text, head.time);
      if (q.length > 0) return q;
    }
    // status lines: smtp/lmtp sessions; error (relay=none) and qmgr lines never had a session
    return this.smtp(`${program}${pid}`, text, head.time);
  }

  private split(line: string): { time: number | undefined; rest: string } | undefined {
    const r = RFC3339.exec(line);
    if (r) return { time: Date.parse(r[1] ?? ''), rest: r[2] ?? '' };
    const t = TRADITIONAL.exec(line);
    if (!t) return undefined;
    const month = MONTHS.indexOf(t[1] ?? '');
    const nowDate = new Date(this.now());
    const year = month > nowDate.getUTCMonth() ? nowDate.getUTCFullYear() - 1 : nowDate.getUTCFullYear();
    return { time: Date.UTC(year, month, Number(t[2]), Number(t[3]), Number(t[4]), Number(t[5])), rest: t[6] ?? '' };
  }

  private smtp(proc: string, text: string, time: number | undefined): LogEvent[] {
    const tls = TLS_LINE.exec(text);
    if (tls) {
      const state = tls[1] as LoggedTlsState;
      const relay = tls[2] ?? '';
      this.remember(this.pending, proc, { relay, state });
      return [{ kind: 'tls', time, domain: undefined, state, daneResult: undefined, mx: hostOf(relay) }];
    }
    const s = STATUS_LINE.exec(text);
    if (!s) return [];
    const [, qid = '', rcpt = '', relay = '', connUse, feature, dsn, status = '', detail = ''] = s;
    const domain = rcpt.includes('@') ? rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase() : undefined;
    const state = this.sessionState(proc, qid, relay, connUse === undefined ? 1 : Number(connUse));
    if (status === 'expired') return [{ kind: 'queue-outcome', time, domain, qid, status: 'expired' }];
    return [{
      kind: 'delivery', time, domain, qid, status: STATUSES.includes(status) ? (status as Status) : undefined, state, dsn,
      text: detail, rcpt, mx: relay === 'none' ? undefined : hostOf(relay), feature,
    }];
  }

  /** The TLS state of the session a status line was sent over (see the header). */
  private sessionState(proc: string, qid: string, relay: string, connUse: number): LoggedTlsState {
    if (relay === 'none') return 'none';
    const cur = this.current.get(proc);
    if (cur && cur.relay === relay && (connUse >= 2 || cur.qid === qid)) return cur.state;
    const p = this.pending.get(proc);
    this.pending.delete(proc);
    const session: Session = p && p.relay === relay ? { ...p, qid } : { relay, state: 'none', qid };
    this.remember(this.current, proc, session);
    return session.state;
  }

  /** Bounded memory over any log length: the oldest entry goes when a table is full (insertion order). */
  private remember<V>(table: Set<string> | Map<string, V>, key: string, value?: V): void {
    if (!table.has(key) && table.size >= SEEN_LIMIT) {
      const oldest = table.keys().next().value;
      if (oldest !== undefined) table.delete(oldest);
    }
    if (table instanceof Set) table.add(key);
    else table.set(key, value as V);
  }

  private qmgr(text: string, time: number | undefined): LogEvent[] {
    const f = FROM_LINE.exec(text);
    if (f) {
      const qid = f[1] ?? '';
      if (this.seen.has(qid)) return [];
      this.remember(this.seen, qid);
      return [{ kind: 'accepted', time, domain: undefined, qid, size: Number(f[2]), nrcpt: Number(f[3]) }];
    }
    const e = EXPIRED_LINE.exec(text);
    if (e) return [{ kind: 'queue-outcome', time, domain: undefined, qid: e[1], status: 'expired' }];
    return [];
  }
}

/** `mx.example[192.0.2.1]:25` → `mx.example`. */
function hostOf(relay: string): string {
  const i = relay.indexOf('[');
  return (i < 0 ? relay : relay.slice(0, i)).toLowerCase();
}
