/**
 * Which resolvers' AD bit is believed (RFC 7672 §2.1.3, checklist C6).
 *
 * Contract: a server is trusted when its address is inside one of the trusted
 * networks (default: loopback, 127.0.0.0/8 and ::1 — Postfix's model: a
 * validating resolver reached over a path nobody can tamper with). From any
 * other server the AD bit is ignored: answers count as insecure and denials as
 * not secure. A bad CIDR throws `DnsConfigError` (configuration error).
 */
import ipaddr from 'ipaddr.js';
import { DnsConfigError } from './resolv-conf.ts';
import { fmt, type DnsServer } from './transport.ts';

export const DEFAULT_TRUSTED_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1/128'];

export type TrustedNetworks = Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

export function parseTrustedNetworks(cidrs: readonly string[]): TrustedNetworks {
  return cidrs.map((c) => {
    try {
      if (c.includes('/')) return ipaddr.parseCIDR(c);
      const a = ipaddr.parse(c);
      return [a, a.kind() === 'ipv4' ? 32 : 128];
    } catch {
      throw new DnsConfigError(`trusted network "${c}" is not a CIDR`);
    }
  });
}

export function isTrustedServer(host: string, nets: TrustedNetworks): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try { addr = ipaddr.process(host); } catch { return false; }
  return nets.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/** One line for the start-up log saying whose AD bit is believed. */
export function describeTrust(servers: readonly DnsServer[], nets: TrustedNetworks, cidrs: readonly string[]): string {
  const trusted = servers.filter((s) => isTrustedServer(s.host, nets)).map(fmt);
  const untrusted = servers.filter((s) => !isTrustedServer(s.host, nets)).map(fmt);
  const list = `trusted networks ${cidrs.join(', ') || '(none)'}`;
  if (untrusted.length === 0) {
    return `dns: AD bit trusted from ${trusted.join(', ')} (${list})`;
  }
  return `dns: WARNING resolver(s) ${untrusted.join(', ')} outside ${list}: their AD bit is ignored, ` +
    'every answer from them counts as insecure and DANE cannot be used with them' +
    (trusted.length > 0 ? `; AD trusted from ${trusted.join(', ')}` : '');
}
