/**
 * Envelope address checks done on top of smtp-server's own parser.
 *
 * Contract: a recipient must be `local@domain` with a DNS domain (ASCII
 * labels, or U-labels when the client asked for SMTPUTF8); address literals
 * (`user@[192.0.2.1]`) are refused because the outbound side routes by
 * domain. The sender is the same or empty (the null sender). Replies use
 * Postfix's wording: `501 5.1.3 Bad recipient address syntax`,
 * `501 5.1.7 Bad sender address syntax`.
 */
const ASCII_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function validDomain(domain: string, utf8: boolean): boolean {
  if (domain.length === 0 || domain.length > 253) return false;
  const labels = domain.replace(/\.$/, '').split('.');
  return labels.every((l) => ASCII_LABEL.test(l) || (utf8 && /[^\x00-\x7f]/.test(l) && !/[\s\x00-\x20\x7f@[\]]/.test(l) && l.length <= 63));
}

/** True for `local@domain` that the relay can route. */
export function validMailbox(address: string, utf8: boolean): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  if (/[\x00-\x1f\x7f]/.test(address) || (!utf8 && /[^\x00-\x7f]/.test(address))) return false;
  if (local.length > 64 && !local.startsWith('"')) return false;
  return validDomain(address.slice(at + 1), utf8);
}

export const BAD_RECIPIENT = { code: 501, text: '5.1.3 Bad recipient address syntax' } as const;
export const BAD_SENDER = { code: 501, text: '5.1.7 Bad sender address syntax' } as const;
