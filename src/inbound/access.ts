/**
 * Relay access: which clients may relay. A client may relay when its address
 * is inside `mynetworks` (CIDR list; IPv4-mapped IPv6 addresses are matched
 * as IPv4) or when it authenticated (AUTH, only offered after STARTTLS).
 * Everyone else gets `554 5.7.1 Relay access denied` at RCPT TO (Postfix
 * `reject_unauth_destination` wording), and nothing is queued.
 */
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

export type NetworkMatcher = (ip: string) => boolean;

/** A client address parsed, in canonical form (IPv4-mapped IPv6 as IPv4), and its canonical text. */
export interface ClientAddress {
  addr: ipaddr.IPv4 | ipaddr.IPv6;
  text: string;
}

/**
 * Parsed addresses by their text, bounded: a relayhost's few clients are
 * parsed once, not at every connection and recipient (ipaddr.js parsing was
 * about 2 % of the listener's CPU per message, issue 15).
 */
const parsedAddresses = new LRUCache<string, ClientAddress | false>({ max: 1024 });

/** The address `ip` parsed, or undefined when it is not an IP address. */
export function parseClientAddress(ip: string): ClientAddress | undefined {
  let parsed = parsedAddresses.get(ip);
  if (parsed === undefined) {
    try {
      const addr = ipaddr.process(ip);
      parsed = { addr, text: addr.toString() };
    } catch {
      parsed = false;
    }
    parsedAddresses.set(ip, parsed);
  }
  return parsed || undefined;
}

export function networkMatcher(cidrs: readonly string[]): NetworkMatcher {
  const ranges = cidrs.map((c) => ipaddr.parseCIDR(c));
  return (ip) => {
    const addr = parseClientAddress(ip)?.addr;
    return addr !== undefined && ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  };
}

export const RELAY_DENIED = { code: 554, text: '5.7.1 Relay access denied' } as const;
