import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { tlsrptSettingsFromConfig } from '../../src/tlsrpt/settings.ts';

test('defaults: organization myhostname, contact postmaster@myhostname, no DKIM', async () => {
  const s = await tlsrptSettingsFromConfig(parseConfig({ myhostname: 'relay.example.net' }));
  assert.deepEqual(s, { record: true, identity: { organizationName: 'relay.example.net', contactInfo: 'postmaster@relay.example.net' }, dkim: null });
});

test('DKIM: all three keys give a signing key; a partial setting or a bad key file is a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tlsrpt-settings-'));
  try {
    const key = join(dir, 'dkim.pem');
    await writeFile(key, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const ok = await tlsrptSettingsFromConfig(parseConfig({ tlsrpt: { dkim: { domain: 'relay.example.net', selector: 's1', private_key_file: key } } }));
    assert.equal(ok.dkim?.keySelector, 's1');
    await assert.rejects(tlsrptSettingsFromConfig(parseConfig({ tlsrpt: { dkim: { domain: 'relay.example.net' } } })), /must be set together/);
    const bad = join(dir, 'bad.pem');
    await writeFile(bad, 'not a key');
    await assert.rejects(tlsrptSettingsFromConfig(parseConfig({ tlsrpt: { dkim: { domain: 'd', selector: 's', private_key_file: bad } } })), /tlsrpt\.dkim\.private_key_file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
