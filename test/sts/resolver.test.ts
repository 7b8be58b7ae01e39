/**
 * The MTA-STS resolver (RFC 8461 §3.3, §5.1): TXT + cache + fetch, with an
 * injected fetch and clock, then once end to end against the lab HTTPS
 * policy server (blocked fetch on first contact and later, TXT stripped,
 * restart).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsFetchOutcome } from '../../src/core/sts-cache-rules.ts';
import { parseStsPolicy } from '../../src/core/sts-policy.ts';
import type { StsState } from '../../src/core/sts-precedence.ts';
import { issueLeaf } from '../../src/lab/certs.ts';
import { createLabPki } from '../../src/lab/lab-pki.ts';
import { startStsServer, type StsServer } from '../../src/lab/sts-server.ts';
import { StsCacheStore } from '../../src/sts/cache-store.ts';
import { fetchStsPolicy } from '../../src/sts/fetch.ts';
import { createStsResolver, type StsEvent } from '../../src/sts/resolver.ts';
import { FakeDns } from './helpers.ts';

const H = 3_600_000;
const BODY = 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n';
function good(): StsFetchOutcome {
  const r = parseStsPolicy(BODY);
  assert.ok(r.kind === 'policy');
  return r;
}
const BLOCKED: StsFetchOutcome = { kind: 'failure', result: 'sts-policy-fetch-error', reason: 'connection reset' };
const show = (s: StsState): string => (s.kind === 'policy' ? `${s.policy.mode} from ${s.from}` : s.kind === 'none' ? `none${s.failure ? ` ${s.failure}` : ''}` : 'tempfail');

let spools: string[] = [];
async function spool(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sts-resolver-'));
  spools.push(d);
  return d;
}
after(async () => { await Promise.all(spools.map((d) => rm(d, { recursive: true, force: true }))); spools = []; });

async function setup(dir?: string) {
  let clock = 1_700_000_000_000;
  const dns = new FakeDns().txt('_mta-sts.example.com', 'v=STSv1; id=one;');
  const answers: StsFetchOutcome[] = [];
  let fetches = 0;
  const events: StsEvent[] = [];
  const store = await StsCacheStore.open(dir ?? (await spool()), () => clock);
  const resolver = createStsResolver({
    dns, store, refreshAheadMs: 6 * H, now: () => clock, onEvent: (e) => events.push(e),
    fetch: async () => { fetches++; return answers.shift() ?? BLOCKED; },
  });
  return { dns, answers, resolver, store, events, fetches: () => fetches, advance: (ms: number) => { clock += ms; } };
}

describe('createStsResolver (injected fetch)', () => {
  test('§3.3: first contact fetches, then the cache serves without fetching', async () => {
    const t = await setup();
    t.answers.push(good());
    assert.equal(show(await t.resolver.resolve('Example.COM.')), 'enforce from fetched');
    assert.equal(show(await t.resolver.resolve('example.com')), 'enforce from cache');
    assert.equal(t.fetches(), 1);
  });
  test('§3.3: fetch blocked on first contact: no policy (delivered as without MTA-STS), failure reported', async () => {
    const t = await setup();
    assert.equal(show(await t.resolver.resolve('example.com')), 'none sts-policy-fetch-error');
    assert.equal(t.events[0]?.kind, 'sts-policy-fetch-failed');
  });
  test('§3.3: fetch blocked after the id changed: the cached policy is still enforced', async () => {
    const t = await setup();
    t.answers.push(good());
    await t.resolver.resolve('example.com');
    t.dns.txt('_mta-sts.example.com', 'v=STSv1; id=two;');
    assert.equal(show(await t.resolver.resolve('example.com')), 'enforce from cache');
    assert.equal(t.fetches(), 2);
  });
  test('§3.3: TXT stripped by an attacker while a policy is cached: still enforced', async () => {
    const t = await setup();
    t.answers.push(good());
    await t.resolver.resolve('example.com');
    t.dns.remove('_mta-sts.example.com', 'TXT');
    assert.equal(show(await t.resolver.resolve('example.com')), 'enforce from cache');
  });
  test('non-negotiable 1: TXT lookup fails and nothing is cached: tempfail, no fetch', async () => {
    const t = await setup();
    t.dns.fail('_mta-sts.example.com', 'TXT');
    assert.equal(show(await t.resolver.resolve('example.com')), 'tempfail');
    assert.equal(t.fetches(), 0);
  });
  test('§10.2: inside the refresh window the cached policy is used and refreshed in the background', async () => {
    const t = await setup();
    t.answers.push(good(), good());
    await t.resolver.resolve('example.com');
    const first = t.store.get('example.com');
    t.advance(20 * H);
    assert.equal(show(await t.resolver.resolve('example.com')), 'enforce from cache');
    await t.resolver.idle();
    assert.equal(t.fetches(), 2);
    assert.equal(t.store.get('example.com')?.expiresAt, (first?.expiresAt ?? 0) + 20 * H, 'the refresh extended the expiry');
    assert.equal(t.events.filter((e) => e.kind === 'sts-policy-fetched' && e.background).length, 1);
  });
  test('concurrent resolutions of one domain share one fetch', async () => {
    const t = await setup();
    t.answers.push(good());
    const states = await Promise.all([1, 2, 3].map(() => t.resolver.resolve('example.com')));
    assert.deepEqual(states.map(show), ['enforce from fetched', 'enforce from fetched', 'enforce from fetched']);
    assert.equal(t.fetches(), 1);
  });
  test('§3.3: a policy cached before a restart is enforced after it even when the fetch is blocked', async () => {
    const dir = await spool();
    const t1 = await setup(dir);
    t1.answers.push(good());
    await t1.resolver.resolve('example.com');
    const t2 = await setup(dir);
    t2.dns.txt('_mta-sts.example.com', 'v=STSv1; id=two;');
    assert.equal(show(await t2.resolver.resolve('example.com')), 'enforce from cache');
  });
});

describe('createStsResolver with the real fetch and the lab policy server', () => {
  let server: StsServer;
  let pki: Awaited<ReturnType<typeof createLabPki>>;
  before(async () => {
    pki = await createLabPki();
    server = await startStsServer({ host: '127.0.0.1' });
  });
  after(async () => { await server.close(); });

  test('§3.3: blocked on first contact -> none; served -> enforce; blocked again -> cached policy still enforced; TXT stripped -> still enforced', async () => {
    const leaf = await issueLeaf(pki.publicIntermediate, { dnsNames: ['mta-sts.lab.example'] });
    const chain = [leaf, pki.publicIntermediate];
    const dns = new FakeDns().txt('_mta-sts.lab.example', 'v=STSv1; id=1;').a('mta-sts.lab.example', '127.0.0.1');
    const store = await StsCacheStore.open(await spool());
    const fetch = (d: string) => fetchStsPolicy(d, { dns, ca: [pki.publicRoot.certPem], connectTimeoutMs: 2000, totalTimeoutMs: 3000, port: server.port });
    const resolver = createStsResolver({ dns, store, fetch, refreshAheadMs: H });

    server.setSite('lab.example', { behaviour: 'reset', chain });
    assert.equal(show(await resolver.resolve('lab.example')), 'none sts-policy-fetch-error');
    server.setSite('lab.example', { behaviour: 'serve', policy: BODY, chain });
    assert.equal(show(await resolver.resolve('lab.example')), 'enforce from fetched');
    server.setSite('lab.example', { behaviour: 'reset', chain });
    dns.txt('_mta-sts.lab.example', 'v=STSv1; id=2;');
    assert.equal(show(await resolver.resolve('lab.example')), 'enforce from cache');
    dns.remove('_mta-sts.lab.example', 'TXT');
    assert.equal(show(await resolver.resolve('lab.example')), 'enforce from cache');
    await resolver.idle();
  });
});
