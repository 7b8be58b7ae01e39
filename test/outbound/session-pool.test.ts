/**
 * The session pool hands out a session that just completed a transaction
 * without RSET, and checks any other with RSET first (as Postfix checks a
 * cached session); a failed RSET drops the session (C31 keys are tested in
 * reuse.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPool } from '../../src/outbound/session-pool.ts';
import type { SmtpSession } from '../../src/outbound/session.ts';

function fakeSession(cleanSince: number | null, resetOk = true) {
  const s = {
    alive: true, state: 'ready', uses: 1, cleanSince, resets: 0, quits: 0,
    reset: async () => { s.resets++; return resetOk; },
    quit: () => { s.quits++; s.alive = false; },
  };
  return s;
}

const asSession = (s: ReturnType<typeof fakeSession>) => s as unknown as SmtpSession;

test('pool: a session whose last transaction just completed is reused without RSET', async () => {
  const pool = new SessionPool({ maxMessages: 100, idleTimeoutMs: 10_000 });
  const s = fakeSession(Date.now());
  pool.release('k', asSession(s));
  assert.equal(await pool.acquire('k'), asSession(s));
  assert.equal(s.resets, 0);
  pool.close();
});

test('pool: a session idle for a while, or after a refused transaction, is checked with RSET first', async () => {
  const pool = new SessionPool({ maxMessages: 100, idleTimeoutMs: 10_000 });
  const stale = fakeSession(Date.now() - 5_000);
  pool.release('k', asSession(stale));
  assert.equal(await pool.acquire('k'), asSession(stale));
  assert.equal(stale.resets, 1);
  const refused = fakeSession(null);
  pool.release('k', asSession(refused));
  assert.equal(await pool.acquire('k'), asSession(refused));
  assert.equal(refused.resets, 1);
  pool.close();
});

test('pool: a session that fails RSET is not handed out', async () => {
  const pool = new SessionPool({ maxMessages: 100, idleTimeoutMs: 10_000 });
  const bad = fakeSession(null, false);
  pool.release('k', asSession(bad));
  assert.equal(await pool.acquire('k'), null);
  assert.equal(bad.resets, 1);
  pool.close();
});
