/**
 * `dane-relay tlsa rollover` — the commander definition; the work is in
 * src/tools/tlsa/rollover-run.ts. Exit 0 done, 1 refused or not confirmed,
 * 2 usage or operational error.
 */
import { Command, InvalidArgumentError } from 'commander';
import { parseServerAddress } from '../dns/index.ts';
import { runRollover } from '../tools/tlsa/rollover-run.ts';
import type { CliIo } from './report.ts';
import { intArg } from './args.ts';

function address(v: string): string {
  try { parseServerAddress(v); } catch { throw new InvalidArgumentError('expected IP or IP:PORT ([IPv6]:PORT)'); }
  return v;
}

function step(v: string): 'publish' | 'retire' {
  if (v !== 'publish' && v !== 'retire') throw new InvalidArgumentError('publish or retire');
  return v;
}

interface RolloverFlags {
  current: string; next?: string; nextKey?: string; old?: string; step?: 'publish' | 'retire'; host?: string; port: number; ttl: number;
  selector: number; matching: number; resolver?: string; nsupdate?: boolean; server?: string; zone?: string; tsigKeyFile?: string; tsigKey?: string; wait: number; running?: string;
}

export function rolloverCommand(io: CliIo): Command {
  return new Command('rollover')
    .description('roll a 3 1 1 TLSA record over to the next key: print the plan, or make one step (nsupdate script, or a TSIG-signed update) and wait until the validating resolver returns it')
    .requiredOption('--current <file>', 'PEM: the certificate running now (certbot: live/NAME/cert.pem)')
    .option('--next <file>', "PEM: the next certificate (certbot's renewed cert.pem or fullchain.pem)")
    .option('--next-key <file>', 'PEM: the next private or public key (when the certificate is not issued yet)')
    .option('--old <file>', 'with --step retire: PEM certificate or key being retired')
    .option('--step <step>', 'publish (current + next) or retire (drop the old record); default: print the plan', step)
    .option('--host <name>', "TLSA owner host (default: the current certificate's first DNS name)")
    .option('--port <n>', 'port in the owner name _PORT._tcp.HOST', intArg('port', 1, 65535), 25)
    .option('--ttl <seconds>', 'TTL of added records', intArg('ttl', 1, 604_800), 3600)
    .option('--selector <n>', '1 SPKI (default) or 0 Cert', intArg('selector', 0, 1), 1)
    .option('--matching <n>', '1 SHA2-256 (default) or 2 SHA2-512', intArg('matching type', 1, 2), 1)
    .option('--resolver <addr>', 'validating resolver IP[:PORT]: read the published RRset, and confirm the update', address)
    .option('--nsupdate', 'print the step as an nsupdate (RFC 2136) script')
    .option('--server <addr>', 'send the update to this primary IP[:PORT] (TSIG, RFC 8945)', address)
    .option('--zone <zone>', 'zone to update (with --server)')
    .option('--tsig-key-file <file>', 'BIND key file (tsig-keygen output), hmac-sha256')
    .option('--tsig-key <spec>', '[hmac-sha256:]NAME:BASE64SECRET (as nsupdate -y)')
    .option('--running <url>', 'service URL (smtp://HOST:PORT, https://HOST…) whose live certificate must be --current; refused otherwise')
    .option('--wait <seconds>', 'how long to wait for the resolver to return the new RRset', intArg('wait', 0, 86_400), 120)
    .action(async (f: RolloverFlags) => {
      io.setExitCode(await runRollover({
        current: f.current, next: f.next, nextKey: f.nextKey, old: f.old, step: f.step, host: f.host, port: f.port, ttl: f.ttl,
        params: { selector: f.selector as 0 | 1, matchingType: f.matching as 1 | 2 }, resolver: f.resolver, nsupdate: f.nsupdate,
        server: f.server, zone: f.zone, tsigKeyFile: f.tsigKeyFile, tsigKey: f.tsigKey, waitSeconds: f.wait, running: f.running,
      }, { stdout: io.stdout, stderr: io.stderr }));
    });
}
