/**
 * `ConfigError`: the one error class for bad configuration (a key, a file, a
 * table entry). Its message is one line naming the key path or the file and
 * line; `serve`, `config check` and SIGHUP print it as is and exit 78
 * (EX_CONFIG) or keep the running configuration. No I/O.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(`config error: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Exit status for a configuration error (sysexits.h EX_CONFIG). */
export const EX_CONFIG = 78;
