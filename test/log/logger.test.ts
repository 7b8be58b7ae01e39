/**
 * The logger on a log disk that is full (non-negotiable 7): with
 * `log.file` and `log.maillog` on /dev/full, every log call returns, no
 * error escapes as an uncaught exception, and the process still exits.
 * With pino.destination (sonic-boom 4.2.1) each line was an uncaught
 * ENOSPC, and the exit hung for ever in sonic-boom's flushSync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOGGER = fileURLToPath(new URL('../../src/log/logger.ts', import.meta.url));

const script = `
const { createLogger, adminLogger } = await import(${JSON.stringify(LOGGER)});
let uncaught = 0;
process.on('uncaughtException', () => uncaught++);
const config = { level: 'info', file: '/dev/full', format: 'json', maillog: '/dev/full', tls_feature_status: false };
const logger = createLogger(config, 'dane-relay', undefined, 'relay.test');
const admin = adminLogger(config, 'relay.test');
for (let i = 0; i < 3; i++) {
  logger.info({ event: 'queued', qid: 'ABC' + i }, 'ABC' + i + ': from=<a@b.test>, size=1, nrcpt=1 (queue active)');
  admin.info({ event: 'deleted', qid: 'ABC' + i }, 'ABC' + i + ': removed');
}
logger.flush();
await new Promise((r) => setTimeout(r, 200));
process.stdout.write('returned, uncaught=' + uncaught + '\\n');
process.exit(0);
`;

test('log.file and log.maillog on a full disk: log calls return, nothing is thrown or uncaught, and the process exits', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, 'the process exited by itself (it was not killed at the timeout)');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'returned, uncaught=0\n');
  assert.match(r.stderr, /log file \/dev\/full: write failed \(ENOSPC\)/, 'the outage is reported on stderr');
});
