/**
 * The configuration's lookup tables, parsed once into typed values: the TLS
 * policy table (`tls.policy` + `tls.policy_file`, Postfix
 * smtp_tls_policy_maps) and the transport table (`delivery.transport` +
 * `delivery.transport_file`, Postfix transport(5)).
 *
 * Contract:
 * - `configTables(config)` reads the table files and parses every entry the
 *   first time it sees a config object and returns the same typed tables
 *   afterwards (memoised per frozen config): the relay, the DNSSEC guard and
 *   the tools all receive these values, no one reads the files again.
 * - `parseConfig` (load.ts) calls it, so a bad entry (`dane-onyl`, a bad
 *   next hop) stops loading with one `ConfigError` naming the key, or the
 *   file and line, before any DNS probe or socket (C19: a typo in a
 *   `dane-only` entry must never degrade to a default level at run time).
 * - `defaults` carries the typed global level and insecure-MX policy
 *   (RFC 7672 §2.2.1, C8) used when no entry matches.
 */
import { readFileSync } from 'node:fs';
import type { InsecureMxPolicy, TlsLevel } from '../core/tls-level.ts';
import { ConfigError } from './errors.ts';
import type { RelayConfig } from './schema.ts';
import { buildPolicyTable, type PolicyTable } from './tls-policy-map.ts';
import { buildTransportTable, TransportMapError, type TransportTable } from './transport-map.ts';

export interface ConfigTables {
  policy: PolicyTable;
  transport: TransportTable;
  defaults: { level: TlsLevel; insecureMxPolicy: InsecureMxPolicy };
}

const parsed = new WeakMap<object, ConfigTables>();

function readTableFile(key: string, file: string | null): string | undefined {
  if (file === null) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function transportTable(config: RelayConfig): TransportTable {
  const file = config.delivery.transport_file;
  const text = readTableFile('delivery.transport_file', file);
  try {
    buildTransportTable({}, text);
  } catch (err) {
    if (err instanceof TransportMapError) throw new ConfigError(`delivery.transport_file: ${file ?? ''}: ${err.message.replace(/^transport map: /, '')}`);
    throw err;
  }
  for (const [key, value] of Object.entries(config.delivery.transport)) {
    try {
      buildTransportTable({ [key]: value });
    } catch (err) {
      if (err instanceof TransportMapError) throw new ConfigError(`delivery.transport.${key}: ${err.message.replace(/^transport map: /, '')}`);
      throw err;
    }
  }
  return buildTransportTable({ ...config.delivery.transport }, text);
}

/** The parsed tables of `config` (parsed on first use, then the same object). Throws ConfigError. */
export function configTables(config: RelayConfig): ConfigTables {
  const known = parsed.get(config);
  if (known) return known;
  const file = config.tls.policy_file;
  const policyText = readTableFile('tls.policy_file', file);
  const tables: ConfigTables = {
    policy: buildPolicyTable({ ...config.tls.policy }, policyText, file === null ? undefined : `tls.policy_file: ${file}`),
    transport: transportTable(config),
    defaults: { level: config.tls.security_level, insecureMxPolicy: config.tls.dane_insecure_mx_policy },
  };
  parsed.set(config, tables);
  return tables;
}
