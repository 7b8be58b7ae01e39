import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DailyReport } from '../../src/tlsrpt/daily.ts';
import { buildReport, dayRange } from '../../src/tlsrpt/report.ts';
import { sendDailyReports, type SendDeps } from '../../src/tlsrpt/send.ts';

const DAY = '2026-11-30';
const report = buildReport('a.example', [], { organizationName: 'relay.example.net', contactInfo: 'postmaster@relay.example.net', reportId: 'id', range: dayRange(DAY) });
const READY: DailyReport = {
  kind: 'ready', domain: 'a.example', report,
  rua: [{ kind: 'https', url: 'https://r.a.example/x', uri: 'https://r.a.example/x' }, { kind: 'mailto', address: 'tls@a.example', uri: 'mailto:tls@a.example' }],
};

test('RFC 8460 §5: each rua gets the report once; a failed POST is retried at the next run, a sent one is not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tlsrpt-send-'));
  try {
    const posted: string[] = [];
    const queued: Array<{ from: string; to: string }> = [];
    let postOk = false;
    const deps: SendDeps = {
      dir, dkim: null, now: () => 0,
      post: async (url) => { posted.push(url); return postOk ? { kind: 'sent', status: 200, ip: '127.0.0.1' } : { kind: 'failed', reason: 'HTTP status 503' }; },
      enqueue: async (m) => { queued.push({ from: m.from, to: m.to }); },
    };
    const first = await sendDailyReports(DAY, [READY, { kind: 'no-rua', domain: 'b.example', report, reason: 'none' }], deps);
    assert.deepEqual(first.map((o) => `${o.domain} ${o.kind}`), ['a.example failed', 'a.example queued', 'b.example no-rua']);
    assert.deepEqual(queued, [{ from: 'postmaster@relay.example.net', to: 'tls@a.example' }]);
    postOk = true;
    const second = await sendDailyReports(DAY, [READY], deps);
    assert.deepEqual(second.map((o) => `${o.uri} ${o.kind}`), ['https://r.a.example/x sent', 'mailto:tls@a.example already-sent']);
    const third = await sendDailyReports(DAY, [READY], deps);
    assert.deepEqual(third.map((o) => o.kind), ['already-sent', 'already-sent']);
    assert.equal(posted.length, 2);
    assert.equal(queued.length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
