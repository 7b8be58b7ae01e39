/**
 * The contract between the queue's scheduler and the delivery engine.
 *
 * The scheduler hands the deliverer one message's pending recipients for one
 * destination (next-hop domain) at a time and records the per-recipient
 * outcomes it gets back. The deliverer never throws for expected failures
 * (DNS, TLS, SMTP replies): those are outcomes. A thrown error is a bug; the
 * scheduler then defers every recipient of the job with 4.3.0.
 */
import type { RefusalCause } from '../core/refusal-cause.ts';
import type { Readable } from 'node:stream';

export type RecipientStatus = 'sent' | 'deferred' | 'bounced';

export interface DeliveryJob {
  queueId: string;
  /** Envelope sender; '' is the null sender (bounces). */
  sender: string;
  /** Next-hop domain all recipients share (lower case). */
  domain: string;
  recipients: string[];
  /** Message size in bytes (for SIZE=). */
  size: number;
  smtputf8: boolean;
  /** 8BITMIME body. */
  eightBit: boolean;
  /** When the message was accepted (ms since epoch), for delays=. */
  receivedAt: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** RET and ENVID to pass on to a next hop that offers DSN (RFC 3461 §4.3, §4.4). */
  dsn?: { ret?: 'FULL' | 'HDRS'; envid?: string };
  /** Per recipient NOTIFY and ORCPT to pass on (RFC 3461 §4.1, §4.2); absent = none given. */
  recipientDsn?: Record<string, { notify?: string[]; orcpt?: string }>;
  /** RFC 8689: the sender asked for REQUIRETLS; only a DANE-verified host offering REQUIRETLS may take it. */
  requireTls?: boolean;
  /** RFC 8689 §5 `TLS-Required: No` header, already checked against `tls.honor_tls_required_no`. */
  tlsOptional?: boolean;
  /**
   * The message (headers and body, CRLF line ends): the bytes themselves when
   * the scheduler holds them in memory, else a fresh stream from the queue
   * file each call.
   */
  openBody(): Readable | Buffer;
  /**
   * The queue file whose first `size` bytes are the message, when the
   * scheduler does not hold it in memory: an engine in another thread
   * (src/outbound/delivery-thread.ts) reads it from there.
   */
  contentFile?: string;
}

export interface RecipientOutcome {
  recipient: string;
  status: RecipientStatus;
  /** Enhanced status code, e.g. `2.0.0`, `4.7.5`, `5.1.1`. */
  dsn: string;
  /** Postfix-style reason, e.g. `host mx.example.net[192.0.2.1] said: 550 5.1.1 No such user`. */
  diagnostic: string;
  /** `mx.example.net[192.0.2.1]:25` when a server was talked to. */
  relay?: string;
  /** The remote server's reply text, when there was one (quoted in DSNs). */
  remoteReply?: string;
  /** Why it was not delivered (deferred, bounced), decided where the failure was classified. */
  cause?: RefusalCause;
  /** For `sent`: the next hop offered DSN (NOTIFY was passed on; RFC 3461 §5.2.2 otherwise: `relayed`). */
  hopOffersDsn?: boolean;
}

export interface Deliverer {
  deliver(job: DeliveryJob): Promise<RecipientOutcome[]>;
  /** Close pooled connections; called on shutdown. */
  close(): Promise<void>;
}
