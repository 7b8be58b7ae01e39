/**
 * `HOST:PORT` and `[v6]:PORT` as written in the configuration (`listen`,
 * `delivery.relayhost`, …) and on the command line (`tlsa generate
 * --connect`). One parser for all of them, in a module of its own so that a
 * thread that only delivers does not load the configuration schema (and
 * zod) to split an address.
 *
 * Contract: `parseHostPort` returns host and port, or undefined when the
 * text is malformed (no port, a port of more than 5 digits or above 65535,
 * an empty host, brackets or whitespace in an unbracketed host). Port 0 is
 * accepted (a listener on an ephemeral port); callers that connect refuse it.
 */

/** Splits `127.0.0.1:2525` / `[::1]:2525` / `localhost:25`; undefined when malformed. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1] ?? '', port } : undefined;
}
