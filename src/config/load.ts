/**
 * Loading the configuration: YAML file (optional) + overrides -> validated,
 * path-resolved, deep-frozen `RelayConfig`.
 *
 * Contract:
 * - `loadConfig(undefined, {})` works with no file at all (embedded defaults).
 * - Overrides (e.g. `--listen`, `--spool`) are merged over the file's
 *   top-level keys BEFORE validation, so they are checked like the file.
 * - Problems throw `ConfigError`, one line per problem naming the key path
 *   (every schema problem at once; a file or table problem on its own):
 *   `config error: inbound.max_message_size: expected number, received string`.
 *   Unknown keys, wrong types, bad CIDRs, unreadable files (cert, key,
 *   users_file, ca_file, policy_file, transport_file), a cert/key pair that
 *   does not load, a malformed users file, AUTH without TLS, an unknown TLS
 *   level, and every policy-table and transport-table entry (config/tables.ts
 *   parses them here, once; a policy-file error names the file and line).
 * - Relative paths resolve against the working directory at load time.
 * - The result is deep-frozen: load once, pass down, never mutate.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { relayConfigSchema, type RelayConfig } from './schema.ts';
import { readUsersFile } from './users-file.ts';
import { ConfigError } from './errors.ts';
import { configTables } from './tables.ts';

export type { RelayConfig } from './schema.ts';

export { ConfigError };

/** Top-level keys merged over the file before validation (CLI flags). */
export type ConfigOverrides = Record<string, unknown>;

function pathOf(path: PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => [...issue.path, k]);
    return `${keys.map(pathOf).join(', ')}: unknown key`;
  }
  if (issue.code === 'invalid_value') {
    const got = 'input' in issue ? ` "${String(issue.input)}"` : '';
    return `${pathOf(issue.path)}: unknown value${got}, expected one of ${issue.values.map(String).join(', ')}`;
  }
  const message = issue.code === 'invalid_type' ? issue.message.replace(/^Invalid input: /, '') : issue.message;
  return `${pathOf(issue.path)}: ${message}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function checkReadable(key: string, file: string | null): void {
  if (file === null) return;
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function resolvePaths(c: RelayConfig): void {
  const abs = (p: string | null): string | null => (p === null ? null : resolve(p));
  c.spool = resolve(c.spool);
  c.inbound.tls.cert = abs(c.inbound.tls.cert);
  c.inbound.tls.key = abs(c.inbound.tls.key);
  c.inbound.auth.users_file = abs(c.inbound.auth.users_file);
  c.tls.ca_file = abs(c.tls.ca_file);
  c.tls.policy_file = abs(c.tls.policy_file);
  c.delivery.transport_file = abs(c.delivery.transport_file);
  c.log.file = abs(c.log.file);
}

function checkFiles(c: RelayConfig): void {
  checkReadable('inbound.tls.cert', c.inbound.tls.cert);
  checkReadable('inbound.tls.key', c.inbound.tls.key);
  checkReadable('inbound.auth.users_file', c.inbound.auth.users_file);
  checkReadable('tls.ca_file', c.tls.ca_file);
  checkReadable('tls.policy_file', c.tls.policy_file);
  checkReadable('delivery.transport_file', c.delivery.transport_file);
  const { cert, key } = c.inbound.tls;
  if ((cert === null) !== (key === null)) throw new ConfigError(`inbound.tls.${cert === null ? 'cert' : 'key'}: cert and key must be set together`);
  if (cert !== null && key !== null) {
    try {
      createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) });
    } catch (err) {
      throw new ConfigError(`inbound.tls.cert: cannot load certificate and key: ${(err as Error).message}`);
    }
  }
  if (c.inbound.auth.users_file !== null) {
    if (cert === null) throw new ConfigError('inbound.auth.users_file: AUTH is offered only after STARTTLS; set inbound.tls.cert and inbound.tls.key');
    try {
      readUsersFile(c.inbound.auth.users_file);
    } catch (err) {
      throw new ConfigError(`inbound.auth.users_file: ${(err as Error).message}`);
    }
  }
}

/** Validates a plain object (already read from YAML or built by a test). */
export function parseConfig(input: unknown): RelayConfig {
  const raw = input ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('(top level): expected a mapping of keys');
  const result = relayConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    // Every problem at once, one line each (as `postfix check`), in the schema's order.
    const problems = [...new Set(result.error.issues.map(describeIssue))];
    throw new ConfigError(problems.length > 0 ? problems : ['invalid configuration']);
  }
  const config = result.data;
  resolvePaths(config);
  checkFiles(config);
  const frozen = deepFreeze(config);
  configTables(frozen);
  return frozen;
}

/** The embedded defaults (no file, no overrides). */
export function defaultConfig(): RelayConfig {
  return parseConfig({});
}

/** Reads `file` (YAML) when given, merges `overrides`, validates, freezes. */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}): RelayConfig {
  let fromFile: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      fromFile = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError(`${file}: expected a mapping of keys at the top level`);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return parseConfig({ ...(fromFile as Record<string, unknown>), ...defined });
}
