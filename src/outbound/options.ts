/**
 * The narrow set of settings the delivery engine reads, mapped once from
 * `RelayConfig` (durations there are already milliseconds, see
 * config/schema.ts). Tests build a `DeliveryOptions` directly.
 *
 * Contract: pure mapping, no I/O; the result is frozen.
 */
import type { RelayConfig } from '../config/schema.ts';
import type { AddressPreference } from '../core/mx-order.ts';
import type { StageBudgets } from './deadline.ts';

export type InetProtocols = 'all' | 'ipv4' | 'ipv6';

export interface DeliveryOptions {
  /** EHLO name. */
  myhostname: string;
  /** Global destination port (default 25); a transport entry may override it. */
  port: number;
  /** Postfix smtp_mx_address_limit: addresses tried per delivery attempt (0 = no limit). */
  mxAddressLimit: number;
  /** Postfix smtp_mx_session_limit: SMTP sessions per delivery attempt (0 = no limit). */
  mxSessionLimit: number;
  addressPreference: AddressPreference;
  inetProtocols: InetProtocols;
  connectTimeoutMs: number;
  /** Idle limit inside any stage (nodemailer socketTimeout). */
  commandTimeoutMs: number;
  /** Total limit of each stage (Postfix smtp_*_timeout with per-record deadlines). */
  deadlines: StageBudgets;
  /** Bytes one server reply may have. */
  maxReplySize: number;
  /** maxMessages 0 or 1 disables reuse; idleTimeoutMs: an idle session is closed (QUIT) after this. */
  reuse: { maxMessages: number; idleTimeoutMs: number };
}

export function deliveryOptionsFrom(config: RelayConfig): DeliveryOptions {
  const d = config.delivery;
  return Object.freeze({
    myhostname: config.myhostname,
    port: d.port,
    mxAddressLimit: d.mx_address_limit,
    mxSessionLimit: d.mx_session_limit,
    addressPreference: d.address_preference,
    inetProtocols: d.inet_protocols,
    connectTimeoutMs: d.connect_timeout,
    commandTimeoutMs: d.command_timeout,
    deadlines: Object.freeze({
      connectMs: d.connect_timeout, heloMs: d.helo_timeout, starttlsMs: d.starttls_timeout,
      mailMs: d.mail_timeout, rcptMs: d.rcpt_timeout, dataInitMs: d.data_init_timeout,
      dataXferMs: d.data_xfer_timeout, minDataRate: d.min_data_rate, dataDoneMs: d.data_done_timeout,
      rsetMs: d.rset_timeout, quitMs: d.quit_timeout,
    }),
    maxReplySize: d.max_reply_size,
    reuse: Object.freeze({ maxMessages: d.connection_reuse.max_messages, idleTimeoutMs: d.connection_reuse.idle_timeout }),
  });
}
