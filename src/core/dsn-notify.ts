/**
 * Which delivery status notifications a recipient gets (RFC 3461 §4.1,
 * §5.2.2, §6.2; RFC 3464), decided as Postfix decides them.
 *
 * Contract (pure, never throws); `notify` is the recipient's NOTIFY list as
 * received, `undefined` when the client gave none:
 * - failure DSN: unless NOTIFY=NEVER or a NOTIFY list without FAILURE; the
 *   default (no NOTIFY) is a failure DSN (Postfix, RFC 3461 §4.1 leaves the
 *   default to the MTA);
 * - delay DSN: only when `delayWarningMs` > 0 (Postfix `delay_warning_time`,
 *   off by default), the message has waited that long, the recipient is
 *   still undelivered, not yet warned, and NOTIFY has DELAY or was not given
 *   (Postfix treats an absent NOTIFY as FAILURE,DELAY);
 * - success: NOTIFY has SUCCESS and the next hop did not offer DSN → a
 *   `relayed` DSN from us (RFC 3461 §5.2.2); a next hop that offers DSN got
 *   NOTIFY passed on and reports itself: nothing from us (Postfix: no
 *   "delivered" DSN for SMTP relay);
 * - never a DSN of any kind to the null sender (no bounce for a bounce;
 *   RFC 3461 §6.2, RFC 5321 §6.1): the caller checks the sender;
 * - the original recipient (ORCPT, RFC 3461 §4.2): as the client gave it,
 *   else `rfc822;<recipient>` as Postfix derives it (it passes that on as
 *   ORCPT and writes it as Original-Recipient); none for a non-ASCII address
 *   without ORCPT (its type would be utf-8, RFC 6533; not derived);
 * - returned content: a failure DSN returns the whole message for RET=FULL
 *   when it is at most `maxReturned` bytes, else headers only; RET=HDRS,
 *   no RET, and every delay and relayed DSN: headers only (RFC 3461 §4.3:
 *   RET concerns failed DSNs).
 */
export type Notify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

export type DsnKind = 'failed' | 'delayed' | 'relayed';

export function wantsFailureDsn(notify: readonly Notify[] | undefined): boolean {
  return notify === undefined || notify.includes('FAILURE');
}

export function wantsDelayDsn(notify: readonly Notify[] | undefined): boolean {
  return notify === undefined || notify.includes('DELAY');
}

/** After delivery to a next hop: does the sender get a `relayed` DSN from us? */
export function relayedDsnDue(notify: readonly Notify[] | undefined, hopOffersDsn: boolean): boolean {
  return notify !== undefined && notify.includes('SUCCESS') && !hopOffersDsn;
}

export interface DelayFacts {
  notify: readonly Notify[] | undefined;
  undelivered: boolean;
  warned: boolean;
  receivedAt: number;
  now: number;
  delayWarningMs: number;
}

export function delayDsnDue(f: DelayFacts): boolean {
  if (f.delayWarningMs <= 0 || !f.undelivered || f.warned) return false;
  return f.now - f.receivedAt >= f.delayWarningMs && wantsDelayDsn(f.notify);
}

export function originalRecipientOf(address: string, orcpt: string | undefined): string | undefined {
  if (orcpt !== undefined) return orcpt;
  return /^[\x21-\x7e]+$/.test(address) ? `rfc822;${address}` : undefined;
}

/** What of the original message goes into the DSN's third part. */
export function returnedContent(kind: DsnKind, ret: 'FULL' | 'HDRS' | undefined, size: number, maxReturned: number): 'full' | 'headers' {
  return kind === 'failed' && ret === 'FULL' && size <= maxReturned ? 'full' : 'headers';
}
