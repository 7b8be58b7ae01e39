import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { admitAuth, admitConnection, AuthFailures, authzidAllowed, clientKey, ConnectionCounts, errorLimitReply, isErrorReply, limitSettings, sessionLimits, underStress } from '../../src/inbound/client-limits.ts';

const settings = (inbound: Record<string, unknown> = {}, mynetworks = ['127.0.0.1/32']) => limitSettings(parseConfig({ myhostname: 'relay.test', mynetworks, inbound }));

describe('per-client connection limit (Postfix smtpd_client_connection_count_limit, exceptions = mynetworks)', () => {
  const cases: Array<{ name: string; inbound?: Record<string, unknown>; address: string; concurrent: number; accept: boolean }> = [
    { name: 'outside client at its limit is accepted', address: '192.0.2.1', concurrent: 50, accept: true },
    { name: 'outside client over its limit is refused', address: '192.0.2.1', concurrent: 51, accept: false },
    { name: 'IPv4-mapped outside client over its limit is refused', address: '::ffff:192.0.2.1', concurrent: 51, accept: false },
    { name: 'mynetworks client over the limit is exempt by default', address: '127.0.0.1', concurrent: 500, accept: true },
    { name: 'IPv4-mapped mynetworks client is exempt', address: '::ffff:127.0.0.1', concurrent: 500, accept: true },
    { name: 'empty exceptions: mynetworks is limited too', inbound: { client_limit_exceptions: [] }, address: '127.0.0.1', concurrent: 51, accept: false },
    { name: 'explicit exceptions replace mynetworks', inbound: { client_limit_exceptions: ['192.0.2.0/24'] }, address: '192.0.2.9', concurrent: 99, accept: true },
    { name: 'limit 0 means no limit', inbound: { client_connection_limit: 0 }, address: '192.0.2.1', concurrent: 10_000, accept: true },
    { name: 'unparsable address is never exempt', inbound: { client_connection_limit: 1 }, address: 'garbage', concurrent: 2, accept: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const verdict = admitConnection(settings(c.inbound), c.address, c.concurrent);
      assert.equal(verdict.kind, c.accept ? 'accept' : 'reject');
      if (verdict.kind === 'reject') assert.deepEqual(verdict.reply, { code: 421, text: `4.7.0 relay.test Error: too many connections from ${clientKey(c.address)}` });
    });
  }
});

describe('stress adaptation (Postfix ${stress?...} defaults)', () => {
  const cases: Array<{ connections: number; maxClients: number; threshold?: number; stress: boolean }> = [
    { connections: 79, maxClients: 100, stress: false },
    { connections: 80, maxClients: 100, stress: true },
    { connections: 100, maxClients: 100, stress: true },
    { connections: 4, maxClients: 5, stress: true },
    { connections: 3, maxClients: 5, stress: false },
    { connections: 50, maxClients: 100, threshold: 50, stress: true },
  ];
  for (const c of cases) {
    test(`${c.connections} of ${c.maxClients} at ${c.threshold ?? 80} %: ${c.stress ? 'stress' : 'normal'}`, () => {
      const s = settings({ max_clients: c.maxClients, ...(c.threshold ? { stress: { threshold: c.threshold } } : {}) });
      assert.equal(underStress(s, c.connections), c.stress);
    });
  }
  test('under stress the idle timeout is 10 s and the hard error limit 1; otherwise 300 s and 20', () => {
    const s = settings();
    assert.deepEqual(sessionLimits(s, false), { idleTimeoutMs: 300_000, hardErrorLimit: 20 });
    assert.deepEqual(sessionLimits(s, true), { idleTimeoutMs: 10_000, hardErrorLimit: 1 });
  });
});

describe('per-session hard error limit (Postfix smtpd_hard_error_limit)', () => {
  const s = settings({ hard_error_limit: 3 });
  const cases: Array<{ stress: boolean; errors: number; ends: boolean }> = [
    { stress: false, errors: 1, ends: false },
    { stress: false, errors: 2, ends: false },
    { stress: false, errors: 3, ends: true },
    { stress: false, errors: 4, ends: false }, // the 421 is sent once, when the limit is reached
    { stress: true, errors: 1, ends: true },
  ];
  for (const c of cases) {
    test(`${c.errors} error(s)${c.stress ? ' under stress' : ''}: ${c.ends ? '421 4.7.0 too many errors' : 'go on'}`, () => {
      const reply = errorLimitReply(s, c.stress, c.errors);
      assert.deepEqual(reply, c.ends ? { code: 421, text: '4.7.0 relay.test Error: too many errors' } : undefined);
    });
  }
  test('limit 0 never ends a session', () => assert.equal(errorLimitReply(settings({ hard_error_limit: 0 }), false, 1000), undefined));
  test('every 4xx/5xx reply counts except the 421 that ends the session', () => {
    assert.deepEqual([220, 250, 334, 354, 421, 450, 451, 500, 502, 535, 554].filter(isErrorReply), [450, 451, 500, 502, 535, 554]);
  });
});

describe('AUTH failure rate limit and authzid (RFC 4616 section 2)', () => {
  const s = settings({ auth_failure_limit: 3 });
  const cases: Array<{ address: string; recent: number; accept: boolean }> = [
    { address: '192.0.2.1', recent: 2, accept: true },
    { address: '192.0.2.1', recent: 3, accept: false },
    { address: '127.0.0.1', recent: 100, accept: true },
  ];
  for (const c of cases) {
    test(`${c.recent} recent failures from ${c.address}: ${c.accept ? 'checked' : '421 without a password check'}`, () => {
      const verdict = admitAuth(s, c.address, c.recent);
      assert.equal(verdict.kind, c.accept ? 'accept' : 'reject');
      if (verdict.kind === 'reject') assert.equal(verdict.reply.code, 421);
    });
  }
  test('limit 0 never refuses', () => assert.equal(admitAuth(settings({ auth_failure_limit: 0 }), '192.0.2.1', 1e6).kind, 'accept'));

  const authz: Array<{ auth: { method: string; authzid?: string; authcid?: string }; allowed: boolean }> = [
    { auth: { method: 'PLAIN', authzid: '', authcid: 'alice' }, allowed: true },
    { auth: { method: 'PLAIN', authzid: 'alice', authcid: 'alice' }, allowed: true },
    { auth: { method: 'PLAIN', authzid: 'admin', authcid: 'alice' }, allowed: false },
    { auth: { method: 'PLAIN', authzid: 'alice', authcid: '' }, allowed: false },
    { auth: { method: 'LOGIN' }, allowed: true },
  ];
  for (const c of authz) {
    test(`${c.auth.method} authzid=${JSON.stringify(c.auth.authzid)} authcid=${JSON.stringify(c.auth.authcid)}: ${c.allowed ? 'allowed' : 'refused'}`, () => {
      assert.equal(authzidAllowed(c.auth), c.allowed);
    });
  }

  test('failures are counted per client within the window only', () => {
    const f = new AuthFailures();
    for (const t of [0, 10, 20]) f.record('192.0.2.1', t, 10);
    assert.equal(f.recent('192.0.2.1', 25, 60_000), 3);
    assert.equal(f.recent('192.0.2.2', 25, 60_000), 0);
    assert.equal(f.recent('192.0.2.1', 60_015, 60_000), 1, 'the two oldest left the window');
    assert.equal(f.recent('192.0.2.1', 200_000, 60_000), 0);
  });
  test('a client keeps at most `limit` failure times (memory is bounded)', () => {
    const f = new AuthFailures(2);
    for (let t = 0; t < 100; t++) f.record('192.0.2.1', t, 3);
    assert.equal(f.recent('192.0.2.1', 100, 1e9), 3);
    f.record('192.0.2.2', 0, 3);
    f.record('192.0.2.3', 0, 3);
    assert.equal(f.recent('192.0.2.1', 100, 1e9), 0, 'least recently used client dropped from a full table');
  });
});

test('connection counts: per canonical client key, release is idempotent', () => {
  const c = new ConnectionCounts();
  const a = c.add(clientKey('::ffff:192.0.2.1'));
  const b = c.add(clientKey('192.0.2.1'));
  assert.equal(c.count('192.0.2.1'), 2);
  a();
  a();
  assert.equal(c.count('192.0.2.1'), 1);
  b();
  assert.equal(c.count('192.0.2.1'), 0);
  assert.equal(c.clients, 0);
});
