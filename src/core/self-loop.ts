/**
 * Does a next-hop address lead back to one of the relay's own listeners?
 * (Postfix `smtp_addr.c`: "mail for DOMAIN loops back to myself", 5.4.6;
 * RFC 5321 §5.1: a host must not deliver to itself as a relay.)
 *
 * Contract (pure, never throws): `ip`:`port` is the relay's own when a
 * listener is bound to exactly that address and port, or a listener bound to
 * the wildcard (`0.0.0.0`, `::`) has that port and `ip` is one of the
 * machine's own addresses (`localAddresses`) or in 127.0.0.0/8 or `::1`
 * (every loopback address reaches a wildcard listener). `::` listeners also
 * take IPv4 (dual stack). IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is compared as
 * IPv4; IPv6 text is compared in lower case (callers pass canonical forms).
 */
export interface Listener {
  host: string;
  port: number;
}

export interface SelfAddresses {
  listeners: Listener[];
  /** Addresses of the machine's interfaces (os.networkInterfaces()). */
  localAddresses: string[];
}

function norm(ip: string): string {
  const s = ip.toLowerCase().replace(/^\[|\]$/g, '');
  return s.startsWith('::ffff:') && s.includes('.') ? s.slice(7) : s;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

export function isOwnListener(ip: string, port: number, self: SelfAddresses): boolean {
  const addr = norm(ip);
  const local = isLoopback(addr) || self.localAddresses.some((l) => norm(l) === addr);
  return self.listeners.some((l) => {
    if (l.port !== port) return false;
    const host = norm(l.host);
    if (WILDCARD.has(host)) return local && (host !== '0.0.0.0' || !addr.includes(':'));
    return host === addr;
  });
}

/** Postfix's wording for a next hop that is the relay itself. */
export function loopsBackMessage(nextHop: string): string {
  return `mail for ${nextHop} loops back to myself`;
}
