/**
 * The configuration schema of dane-relay (zod v4), and the `RelayConfig` type
 * every part of the relay receives.
 *
 * Contract:
 * - snake_case keys; every object is strict (an unknown key is an error);
 *   every key has a default, so `{}` is a complete configuration.
 * - Durations accept a number of SECONDS or a string `<n>[s|m|h|d|w]`
 *   (`300s`, `5m`, `1h`, `5d`); after parsing EVERY DURATION IS IN
 *   MILLISECONDS (`config.dns.timeout === 2000`). Sizes are bytes.
 * - `tls.security_level` and `tls.dane_insecure_mx_policy` are enums.
 *   Only syntax is checked here for `tls.policy` and `delivery.transport`
 *   values (non-empty strings); config/tables.ts parses them once at load
 *   (through tls-policy-map.ts and transport-map.ts). CIDRs: ipaddr.js.
 * - File readability (cert, key, users_file, ca_file, policy_file,
 *   transport_file) and resolution of relative paths against the working
 *   directory are done by config/load.ts, not here.
 */
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { hostname } from 'node:os';
import { INSECURE_MX_POLICIES, TLS_LEVELS } from '../core/tls-level.ts';
import { parseHostPort } from './host-port.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `300`, `300s`, `5m`, `1h`, `5d`, `2w` to milliseconds; undefined when malformed. */
export function durationToMs(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] || 's'] ?? 1000));
}

/** A duration: number of seconds or `<n>[smhdw]`; parsed to milliseconds. */
function duration(dflt: string) {
  return z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const ms = durationToMs(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration (seconds, or a number with s, m, h, d or w)' });
        return z.NEVER;
      }
      return ms;
    })
    .prefault(dflt);
}

const cidr = z.string().refine((v) => ipaddr.isValidCIDR(v), { message: 'expected a CIDR like 127.0.0.0/8 or ::1/128' });

/** `host:port` or `[v6]:port`. */
const hostPort = z.string().refine((v) => parseHostPort(v) !== undefined, { message: 'expected HOST:PORT, e.g. 127.0.0.1:2525 or [::1]:2525' });

const nonEmpty = z.string().min(1, { message: 'expected a non-empty string' });
const path = z.string().min(1).nullable().default(null);
const count = (d: number) => z.number().int().nonnegative().default(d);
const positive = (d: number) => z.number().int().positive().default(d);

const inbound = z
  .strictObject({
    max_message_size: positive(10_485_760),
    max_recipients: positive(1000),
    max_clients: positive(100),
    idle_timeout: duration('300s'),
    max_line_length: z.number().int().min(78).default(2000),
    /** Postfix hopcount_limit: a message with this many Received: headers already is refused 554 5.4.6 (RFC 5321 §6.3). */
    hopcount_limit: positive(50),
    // Per-client and per-session limits (Postfix anvil and smtpd_*_limit; src/inbound/client-limits.ts). 0 = no limit.
    client_connection_limit: count(50),
    /** null: the clients in `mynetworks` are exempt (Postfix smtpd_client_event_limit_exceptions = $mynetworks). */
    client_limit_exceptions: z.array(cidr).nullable().default(null),
    hard_error_limit: count(20),
    auth_failure_limit: count(10),
    auth_failure_window: duration('60s'),
    stress: z
      .strictObject({
        threshold: z.number().int().min(1).max(100).default(80),
        idle_timeout: duration('10s'),
        hard_error_limit: count(1),
      })
      .prefault({}),
    tls: z.strictObject({ cert: path, key: path }).prefault({}),
    auth: z.strictObject({ users_file: path }).prefault({}),
  })
  .prefault({});

const dns = z
  .strictObject({
    resolvers: z.array(hostPort.or(z.string().refine((v) => ipaddr.isValid(v), { message: 'expected an IP address or HOST:PORT' }))).default([]),
    trusted_resolvers: z.array(cidr).default(['127.0.0.0/8', '::1/128']),
    timeout: duration('2s'),
    attempts: positive(2),
    cache: z
      .strictObject({
        max_entries: positive(10_000),
        max_ttl: duration('3600s'),
        negative_max_ttl: duration('3600s'),
        failure_ttl: duration('5s'),
      })
      .prefault({}),
    dnssec_probe: z
      .strictObject({
        name: nonEmpty.default('.'),
        type: nonEmpty.default('NS'),
        on_failure: z.enum(['refuse', 'warn']).default('refuse'),
      })
      .prefault({}),
  })
  .prefault({});

const tls = z
  .strictObject({
    // Enums: a typo (`dnae`) is a load-time error, never a level decided later (C19).
    security_level: z.enum(TLS_LEVELS).default('dane'),
    dane_insecure_mx_policy: z.enum(INSECURE_MX_POLICIES).default('dane'),
    policy: z.record(nonEmpty, nonEmpty).default({}),
    policy_file: path,
    ca_file: path,
    /** RFC 8689 §4.2 `TLS-Required: No`: when true, such a message is sent with TLS optional (logged); false: ignored. */
    honor_tls_required_no: z.boolean().default(false),
  })
  .prefault({});

const delivery = z
  .strictObject({
    port: z.number().int().min(1).max(65535).default(25),
    transport: z.record(nonEmpty, nonEmpty).default({}),
    transport_file: path,
    mx_address_limit: positive(5),
    mx_session_limit: positive(2),
    address_preference: z.enum(['any', 'ipv4', 'ipv6']).default('any'),
    inet_protocols: z.enum(['all', 'ipv4', 'ipv6']).default('all'),
    connect_timeout: duration('30s'),
    command_timeout: duration('300s'),
    helo_timeout: duration('300s'),
    starttls_timeout: duration('300s'),
    mail_timeout: duration('300s'),
    rcpt_timeout: duration('300s'),
    data_init_timeout: duration('120s'),
    data_xfer_timeout: duration('180s'),
    min_data_rate: positive(500),
    data_done_timeout: duration('600s'),
    rset_timeout: duration('20s'),
    quit_timeout: duration('300s'),
    max_reply_size: z.number().int().min(512).default(65_536),
    connection_reuse: z.strictObject({ max_messages: count(100), idle_timeout: duration('10s') }).prefault({}),
    /** The delivery engine (DNS, TLS, SMTP client) in its own thread, beside the listener (src/outbound/delivery-thread.ts). */
    engine_thread: z.boolean().default(true),
  })
  .prefault({});

const queue = z
  .strictObject({
    min_backoff: duration('300s'),
    max_backoff: duration('4000s'),
    max_lifetime: duration('5d'),
    bounce_lifetime: duration('5d'),
    concurrency: positive(20),
    destination_concurrency: positive(5),
    scan_interval: duration('60s'),
    /** Postfix delay_warning_time: a "delayed" DSN (RFC 3464) after this long; 0 = never. */
    delay_warning_time: duration('0s'),
    /** Postfix bounce_size_limit: RET=FULL returns the message up to this size, else its headers only. */
    dsn_max_returned_size: count(50_000),
  })
  .prefault({});

const log = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    file: path,
    format: z.enum(['json', 'postfix']).default('json'),
    maillog: path,
    tls_feature_status: z.boolean().default(false),
  })
  .prefault({});

/** `HOST:PORT` whose host is a loopback address: metrics and health are never exposed beyond the machine. */
const loopbackHostPort = hostPort.refine((v) => {
  const host = parseHostPort(v)?.host ?? '';
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}, { message: 'expected a loopback HOST:PORT, e.g. 127.0.0.1:9525 or [::1]:9525' });

const metrics = z
  .strictObject({ listen: loopbackHostPort.nullable().default(null), health_interval: duration('30s') })
  .prefault({});

/** MTA-STS (RFC 8461): policy discovery, fetch and cache; DANE always takes precedence (RFC 8461 §2). */
const sts = z
  .strictObject({
    enabled: z.boolean().default(true),
    connect_timeout: duration('10s'),
    fetch_timeout: duration('30s'),
    refresh_ahead: duration('1d'),
  })
  .prefault({});

/** SMTP TLS Reporting (RFC 8460): per-attempt results recorded in the spool. */
const tlsrpt = z
  .strictObject({
    record: z.boolean().default(true),
    organization_name: nonEmpty.nullable().default(null),
    contact_info: nonEmpty.nullable().default(null),
    dkim: z.strictObject({ domain: nonEmpty.nullable().default(null), selector: nonEmpty.nullable().default(null), private_key_file: path }).prefault({}),
  })
  .prefault({});

/** The whole file. `myhostname` defaults to os.hostname() at parse time. */
export const relayConfigSchema = z.strictObject({
  myhostname: nonEmpty.optional().transform((v) => v ?? hostname()),
  listen: z.array(hostPort).min(1).default(['127.0.0.1:2525']),
  spool: nonEmpty.default('var/spool'),
  mynetworks: z.array(cidr).default(['127.0.0.0/8', '::1/128']),
  inbound,
  dns,
  tls,
  delivery,
  queue,
  log,
  metrics,
  sts,
  tlsrpt,
});

/** The parsed configuration: durations in ms, paths absolute, deep-frozen. */
export type RelayConfig = z.output<typeof relayConfigSchema>;
/** What a YAML file may contain (before defaults and unit conversion). */
export type RelayConfigInput = z.input<typeof relayConfigSchema>;
