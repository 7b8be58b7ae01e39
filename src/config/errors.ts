/**
 * `ConfigError`: the one error class for bad configuration (a key, a file, a
 * table entry). It carries one or more problems, each one line naming the key
 * path or the file and line; its message is one `config error: …` line per
 * problem. `serve` and `config check` print every line and exit 78
 * (EX_CONFIG); SIGHUP logs them and keeps the running configuration. No I/O.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.map((p) => `config error: ${p}`).join('\n'));
    this.problems = list;
    this.name = 'ConfigError';
  }

  /** One line per problem, each prefixed (`dane-relay: config error: …`), for stderr. */
  lines(prefix: string): string {
    return this.message.split('\n').map((l) => `${prefix}${l}\n`).join('');
  }
}

/** Exit status for a configuration error (sysexits.h EX_CONFIG). */
export const EX_CONFIG = 78;
