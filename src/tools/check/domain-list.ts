/**
 * Domains to check: command-line arguments and `--file` lists.
 *
 * Contract: a list file has one domain a line; `#` starts a comment (whole
 * line or after the domain); blank lines are ignored. Names are lower-cased,
 * a trailing dot removed, duplicates dropped (first occurrence kept, order
 * preserved). A name that is not a plausible domain (characters other than
 * letters, digits, `-`, `_` and dots; an empty label; longer than 253) is an
 * error naming the source and line — a usage error for the caller.
 * Pure.
 */

export type DomainList = { kind: 'ok'; domains: string[] } | { kind: 'error'; message: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The normalised name, or null when it is not a plausible domain. */
export function normaliseDomain(input: string): string | null {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  if (name === '' || name.length > 253) return null;
  return name.split('.').every((l) => LABEL.test(l)) ? name : null;
}

/** Parse a list file's text. */
export function parseDomainList(text: string, source: string): DomainList {
  const domains: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = (raw.split('#')[0] ?? '').trim();
    if (line === '') continue;
    const name = normaliseDomain(line);
    if (name === null) return { kind: 'error', message: `${source}:${i + 1}: not a domain name: ${JSON.stringify(line.slice(0, 80))}` };
    domains.push(name);
  }
  return { kind: 'ok', domains };
}

/** Arguments first, then the file's names; duplicates removed. */
export function mergeDomains(args: string[], fromFile: string[]): DomainList {
  const out: string[] = [];
  for (const a of args) {
    const name = normaliseDomain(a);
    if (name === null) return { kind: 'error', message: `not a domain name: ${JSON.stringify(a.slice(0, 80))}` };
    out.push(name);
  }
  return { kind: 'ok', domains: [...new Set([...out, ...fromFile])] };
}
