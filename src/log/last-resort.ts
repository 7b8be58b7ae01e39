/**
 * Last-resort handlers of the `serve` daemon for an exception or a promise
 * rejection that escaped every module. Each one is a bug: it is logged at
 * `fatal` level as `event: 'internal-error'` (counted by the metrics as
 * `dane_relay_internal_errors_total{kind}`) and the daemon keeps running, so
 * one bad session cannot drop every other session and delivery in flight.
 * Mail stays safe either way: nothing is answered 250 before it is on disk.
 *
 * Installed only by the `serve` command itself, never by `runServe` (which
 * tests call in-process and in child processes): there an escaped error
 * still fails the test run, so the handlers can never hide a bug from it.
 */
import type { Logger } from 'pino';

export function installLastResortHandlers(logger: Logger): void {
  const report = (kind: 'uncaughtException' | 'unhandledRejection', err: unknown): void => {
    try {
      logger.fatal({ event: 'internal-error', kind, err }, `panic: ${kind}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } catch {
      process.stderr.write(`dane-relay: panic: ${kind}: ${String(err)}\n`);
    }
  };
  process.on('uncaughtException', (err) => report('uncaughtException', err));
  process.on('unhandledRejection', (reason) => report('unhandledRejection', reason));
}
