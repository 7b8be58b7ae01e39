/**
 * Relay access: which clients may relay. A client may relay when its address
 * is inside `mynetworks` (CIDR list; IPv4-mapped IPv6 addresses are matched
 * as IPv4) or when it authenticated (AUTH, only offered after STARTTLS).
 * Everyone else gets `554 5.7.1 Relay access denied` at RCPT TO (Postfix
 * `reject_unauth_destination` wording), and nothing is queued.
 */
import ipaddr from 'ipaddr.js';

export type NetworkMatcher = (ip: string) => boolean;

export function networkMatcher(cidrs: readonly string[]): NetworkMatcher {
  const ranges = cidrs.map((c) => ipaddr.parseCIDR(c));
  return (ip) => {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.process(ip);
    } catch {
      return false;
    }
    return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  };
}

export const RELAY_DENIED = { code: 554, text: '5.7.1 Relay access denied' } as const;
