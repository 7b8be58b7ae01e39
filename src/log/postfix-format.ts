/**
 * Renders the relay's typed log events as Postfix-format syslog lines, so the
 * tools operators already run on a maillog (pflogsumm, grep, `dane-relay
 * report`) read the relay's log as they read Postfix's:
 *
 *   2026-12-01T15:00:00.123Z relay.example dane-relay/smtpd[812]: 4Xc2...: client=client.example[127.0.0.1]
 *   ...           dane-relay/cleanup[812]: 4Xc2...: message-id=<abc@client.example>
 *   ...           dane-relay/qmgr[812]: 4Xc2...: from=<a@b>, size=1234, nrcpt=1 (queue active)
 *   ...           dane-relay/smtp[812]: Verified TLS connection established to mx[192.0.2.1]:25: TLSv1.3 with cipher ...
 *   ...           dane-relay/smtp[812]: 4Xc2...: to=<c@d>, relay=mx[192.0.2.1]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 *   ...           dane-relay/qmgr[812]: 4Xc2...: removed
 *
 * Contract: `renderPostfixLines(event, opts)` is pure and total: it takes one
 * parsed JSON log object (pino's `time`, `level`, `msg` and the typed fields
 * of src/log/delivery-events.ts and the other emitters), and returns zero or
 * more lines without a newline. Programs follow Postfix's split of work:
 * `smtpd` (client, NOQUEUE rejects), `cleanup` (message-id), `qmgr` (from=,
 * removed, expired), `smtp` (TLS, status lines, hosts skipped), `bounce`
 * (non-delivery notifications), `postsuper` (operator actions), `master`
 * for the rest. The relay delivers over many connections from one process;
 * Postfix's smtp processes each hold one connection at a time, and tools
 * (`dane-relay report`) join a TLS line to its status lines by process. So an
 * `smtp` line carries the outbound connection number in the brackets
 * (`dane-relay/smtp[17]`, the event's `conn`) where Postfix has its pid.
 * The timestamp is RFC 3339 (rsyslog's default on Debian 12,
 * read by pflogsumm ≥ 1.1.2). `tls=` is added to status lines only when
 * `tlsFeatureStatus` is set (Postfix's `smtp_log_tls_feature_status`):
 * pflogsumm 1.1.5's status regex does not allow a field between `delays=` and
 * `dsn=`, so it is off by default. Unknown or odd input never throws: a line
 * with no `msg` renders as nothing.
 */

export interface PostfixFormatOptions {
  /** The host name in each line (`myhostname`). */
  hostname: string;
  /** The syslog program prefix, `dane-relay` (`dane-relay/smtp[pid]`). */
  syslogName?: string;
  /** Postfix's `smtp_log_tls_feature_status`: `tls=dane` etc. on status lines. */
  tlsFeatureStatus?: boolean;
}

type Fields = Record<string, unknown>;

const s = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

function nested(e: Fields, path: string): unknown {
  if (path in e) return e[path];
  let cur: unknown = e;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Fields)[part];
  }
  return cur;
}

function stamp(time: unknown): string {
  const t = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date(NaN);
  return Number.isNaN(t.getTime()) ? new Date(0).toISOString() : t.toISOString();
}

/** `hostname[ip]` as smtpd names a client; `unknown` when no name was resolved (we never resolve). */
function clientName(e: Fields): string {
  return `unknown[${s(e['client']) || 'unknown'}]`;
}

/** The status line of one recipient, in the field order pflogsumm expects. */
function statusLine(e: Fields, opts: PostfixFormatOptions, detail: string): string {
  const relay = s(e['relay']) || 'none';
  const connUse = typeof e['connUse'] === 'number' && e['connUse'] > 1 ? `, conn_use=${e['connUse']}` : '';
  const delay = typeof e['delay'] === 'number' ? formatDelay(e['delay']) : '0';
  const delays = s(e['delays']) ? `, delays=${s(e['delays'])}` : '';
  const feature = s(nested(e, 'tls.feature'));
  const tls = opts.tlsFeatureStatus && feature ? `, tls=${feature}` : '';
  const dsn = s(e['dsn']) ? `, dsn=${s(e['dsn'])}` : '';
  return `${s(e['qid'])}: to=<${s(e['rcpt'])}>, relay=${relay}${connUse}, delay=${delay}${delays}${tls}${dsn}, status=${s(e['status'])} (${detail})`;
}

function formatDelay(seconds: number): string {
  if (!(seconds > 0)) return '0';
  return seconds >= 10 ? String(Math.round(seconds)) : String(Number(seconds.toPrecision(2)));
}

/** The `(...)` part of a status line: the text after `status=X (` in the event's own msg. */
function statusDetail(e: Fields): string {
  const m = /, status=\S+ \((.*)\)$/s.exec(s(e['msg']));
  return (m?.[1] ?? s(e['diagnostic'])).replace(/[\r\n]+/g, ' ');
}

/** [program, text] pairs for one event; [] when the event has nothing to say in a maillog. */
function linesOf(e: Fields, opts: PostfixFormatOptions): Array<[string, string]> {
  const qid = s(e['qid']);
  const msg = s(e['msg']).replace(/[\r\n]+/g, ' ');
  switch (e['event']) {
    case 'queued': {
      const sasl = s(e['user']) ? `, sasl_method=PLAIN, sasl_username=${s(e['user'])}` : '';
      const out: Array<[string, string]> = [['smtpd', `${qid}: client=${clientName(e)}${sasl}`]];
      out.push(['cleanup', `${qid}: message-id=<${s(e['messageId'])}>`]);
      out.push(['qmgr', `${qid}: from=<${s(e['sender'])}>, size=${s(e['size'])}, nrcpt=${s(e['nrcpt'])} (queue active)`]);
      return out;
    }
    case 'reject':
      return [['smtpd', msg]];
    case 'lost-connection':
      return [['smtpd', msg]];
    case 'tls':
    case 'starttls-injection':
      return [['smtp', msg]];
    case 'host-skipped':
      return [['smtp', qid ? `${qid}: ${msg}` : msg]];
    case 'delivery':
    case 'queue-outcome': {
      const status = s(e['status']);
      if (status === 'expired') return [['qmgr', `${qid}: from=<${s(e['sender'])}>, status=expired, returned to sender`]];
      return [[e['event'] === 'delivery' ? 'smtp' : 'qmgr', statusLine(e, opts, statusDetail(e))]];
    }
    case 'bounce':
    case 'bounce-discarded':
      return [['bounce', msg]];
    case 'queue-admin':
      return [['postsuper', msg]];
    case 'removed':
      return [[s(e['by']) === 'operator' ? 'postsuper' : 'qmgr', msg]];
    default: {
      if (!msg) return [];
      const level = typeof e['level'] === 'number' ? e['level'] : 30;
      const prefix = level >= 50 && !/^(warning|fatal|panic|error): /.test(msg) ? (level >= 60 ? 'fatal: ' : 'error: ') : level === 40 && !/^warning: /.test(msg) ? 'warning: ' : '';
      return [[s(e['program']) || 'master', prefix + msg]];
    }
  }
}

export function renderPostfixLines(e: Fields, opts: PostfixFormatOptions): string[] {
  try {
    const head = `${stamp(e['time'])} ${opts.hostname} ${opts.syslogName ?? 'dane-relay'}`;
    const pid = typeof e['pid'] === 'number' ? e['pid'] : 0;
    const conn = typeof e['conn'] === 'number' ? e['conn'] : pid;
    return linesOf(e, opts).map(([program, text]) => `${head}/${program}[${program === 'smtp' ? conn : pid}]: ${text}`);
  } catch {
    return [];
  }
}
