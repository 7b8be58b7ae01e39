import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupStsTxt, lookupTxtStrings } from '../../src/sts/txt-lookup.ts';
import { FakeDns } from './helpers.ts';

test('RFC 8461 §3.1: the one v=STSv1 record gives its id', async () => {
  const dns = new FakeDns().txt('_mta-sts.example.com', 'v=spf1 -all', 'v=STSv1; id=20240101;');
  assert.deepEqual(await lookupStsTxt(dns, 'example.com'), { kind: 'record', id: '20240101' });
});
test('RFC 8461 §3.1: NXDOMAIN at _mta-sts is "no policy"', async () => {
  const r = await lookupStsTxt(new FakeDns(), 'example.com');
  assert.equal(r.kind, 'none');
});
test('RFC 8461 §3.1: two records are "no policy"', async () => {
  const r = await lookupStsTxt(new FakeDns().txt('_mta-sts.example.com', 'v=STSv1; id=a;', 'v=STSv1; id=b;'), 'example.com');
  assert.equal(r.kind, 'none');
});
test('non-negotiable 1, C1: a DNS failure is tempfail, never "no policy"', async () => {
  const r = await lookupStsTxt(new FakeDns().fail('_mta-sts.example.com', 'TXT'), 'example.com');
  assert.equal(r.kind, 'tempfail');
  assert.equal((await lookupTxtStrings(new FakeDns().fail('x.example', 'TXT'), 'x.example')).kind, 'tempfail');
});
test('a lookup service that throws is a tempfail, not an exception', async () => {
  const r = await lookupTxtStrings({ lookup: async () => { throw new Error('closed'); } }, 'x.example');
  assert.deepEqual(r, { kind: 'tempfail', detail: 'x.example: closed' });
});
