/**
 * Command-line argument parsers shared by every command (commander
 * `argParser`s): each throws commander's `InvalidArgumentError` with one
 * line saying what was expected, which commander prints as a usage error
 * (exit 2). No I/O.
 */
import { InvalidArgumentError } from 'commander';
import { isTlsLevel, TLS_LEVELS, type TlsLevel } from '../core/tls-level.ts';
import { parseServerAddress } from '../dns/index.ts';

/** An integer option in `min..max`. */
export function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
}

/** A repeatable option: the values in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A repeatable resolver address, `IP` or `IP:PORT` (`[IPv6]:PORT`). */
export function resolverArg(v: string, acc: string[] | undefined): string[] {
  try {
    parseServerAddress(v);
  } catch {
    throw new InvalidArgumentError('expected IP or IP:PORT ([IPv6]:PORT), e.g. 127.0.0.1:53');
  }
  return [...(acc ?? []), v];
}

/** A TLS security level (Postfix `smtp_tls_security_level` words). */
export function levelArg(v: string): TlsLevel {
  if (!isTlsLevel(v)) throw new InvalidArgumentError(`one of ${TLS_LEVELS.join(', ')}`);
  return v;
}
