/**
 * `dane-relay tlsa generate|match` — the commander registration; the work is
 * in src/tools/tlsa/.
 *
 * Contract: exit status 0 ok, 1 no match / DANE failure, 2 usage or
 * operational error (including every commander parse error). Output and exit
 * go through the injectable `CliIo` (see cli/report.ts) so tests run the real
 * command in-process.
 */
import { Command } from 'commander';
import { runGenerate } from '../tools/tlsa/run-generate.ts';
import { runMatch } from '../tools/tlsa/run-match.ts';
import { applyCliIo, processIo, type CliIo } from './report.ts';
import { rolloverCommand } from './tlsa-rollover.ts';
import { collect, intArg } from './args.ts';

interface GenerateFlags { usage?: number; selector?: number; matching?: number; host?: string; port: number; connect?: string; starttls?: string; json?: boolean; timeout: number; ehlo?: string }
interface MatchFlags { record: string[]; lookup?: string; resolver?: string; host?: string; port: number; json?: boolean }

function generateCommand(io: CliIo): Command {
  return new Command('generate')
    .description('print TLSA zone-file lines for a certificate chain (default: 3 1 1 for the leaf key, 2 1 1 for the issuing CA key)')
    .argument('[cert]', 'PEM file: the leaf certificate, optionally followed by its chain')
    .option('--usage <n>', 'certificate usage: 3 DANE-EE or 2 DANE-TA', intArg('usage', 0, 255))
    .option('--selector <n>', 'selector: 1 SPKI or 0 Cert', intArg('selector', 0, 255))
    .option('--matching <n>', 'matching type: 1 SHA2-256, 2 SHA2-512, 0 Full', intArg('matching type', 0, 255))
    .option('--host <name>', "host name for the owner _PORT._tcp.HOST (default: the leaf's first DNS name); also the SNI with --connect")
    .option('--port <n>', 'port in the owner name', intArg('port', 1, 65535), 25)
    .option('--connect <host:port>', "take the chain from a live server instead of a file")
    .option('--starttls <proto>', "with --connect: 'smtp' (else TLS from the start)")
    .option('--ehlo <name>', 'EHLO name with --connect (default: this host name)')
    .option('--timeout <ms>', 'overall timeout for --connect', intArg('timeout', 1, 600_000), 10_000)
    .option('--json', 'print JSON for scripts')
    .action(async (cert: string | undefined, f: GenerateFlags) => {
      io.setExitCode(await runGenerate({
        certFile: cert, connect: f.connect, starttls: f.starttls, host: f.host, port: f.port, usage: f.usage, selector: f.selector,
        matchingType: f.matching, json: f.json, timeoutMs: f.timeout, ehlo: f.ehlo,
      }, { ...io, now: () => new Date() }));
    });
}

function matchCommand(io: CliIo): Command {
  return new Command('match')
    .description('does this chain match the TLSA records given or published? (exit 0 match, 1 no match, 2 error)')
    .argument('<chain>', 'PEM file: the leaf certificate, then its chain')
    .option('--record <rr>', 'a TLSA record "USAGE SELECTOR MATCHING HEX" (repeatable)', collect, [])
    .option('--lookup <host>', 'match the TLSA RRset published at _PORT._tcp.HOST (DNSSEC-validated only)')
    .option('--resolver <addr>', 'validating resolver for --lookup, IP[:PORT] (default: /etc/resolv.conf)')
    .option('--host <name>', 'reference name for the DANE-TA name check (default: the --lookup host)')
    .option('--port <n>', 'port of the TLSA owner name', intArg('port', 1, 65535), 25)
    .option('--json', 'print JSON for scripts')
    .action(async (chain: string, f: MatchFlags) => {
      io.setExitCode(await runMatch({ chainFile: chain, records: f.record, lookup: f.lookup, resolver: f.resolver, host: f.host, port: f.port, json: f.json }, { ...io, now: () => new Date() }));
    });
}

export function registerTlsa(program: Command, io: CliIo = processIo()): Command {
  const tlsa = program.command('tlsa').description('generate TLSA records, and check a certificate against them before deploying it');
  applyCliIo(tlsa, io);
  tlsa.addCommand(applyCliIo(generateCommand(io), io));
  tlsa.addCommand(applyCliIo(matchCommand(io), io));
  tlsa.addCommand(applyCliIo(rolloverCommand(io), io));
  return tlsa;
}
