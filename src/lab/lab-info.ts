/**
 * What `dane-relay lab --keep` prints so a person can poke the running lab:
 * the resolver, each relay's listen address, and every scenario's domain,
 * servers (address, mode) and attacker. Pure.
 */
import type { Lab } from './lab-runner.ts';
import { recipientOf } from './lab-runner.ts';
import { scenarioDomain } from './scenario-types.ts';

export function formatLabAddresses(lab: Lab): string {
  const out: string[] = [
    `lab directory:  ${lab.dir}`,
    `lab resolver:   ${lab.resolver.address} (UDP and TCP; validating, trusted by the relay)`,
    `MX port:        ${lab.port} (every lab server and proxy)`,
  ];
  for (const [policy, r] of lab.relays) {
    out.push(`relay (insecure MX policy ${policy}): ${r.address.host}:${r.address.port}  spool ${r.config.spool}`);
  }
  out.push('', 'scenarios:');
  for (const s of lab.scenarios) {
    const servers = s.servers.map((d) => `${d.label}=${lab.plan.get(s.name)?.get(d.label) ?? '?'} ${d.mode}`);
    const proxy = lab.servers.proxies.get(s.name);
    const attacker = s.attacker && proxy ? [`attacker=${proxy.host} ${proxy.mode} → ${s.attacker.target}`] : [];
    out.push(`  ${s.name}  ${scenarioDomain(s)}  rcpt ${recipientOf(s)}  ${[...servers, ...attacker].join(', ') || '(no servers)'}`);
  }
  out.push('', `e.g.  dig @${lab.resolver.host} -p ${lab.resolver.port} +dnssec MX ${lab.scenarios[0] ? scenarioDomain(lab.scenarios[0]) : 'lab.test'}`);
  return out.join('\n') + '\n';
}
