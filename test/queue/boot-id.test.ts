import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBootId, normaliseBootId } from '../../src/queue/boot-id.ts';

const ID = '8a0b9c1d2e3f40516273849aabbccdde';
const DASHED = '8a0b9c1d-2e3f-4051-6273-849aabbccdde';

test('normaliseBootId: the kernel\'s dashed form and systemd\'s %b form are the same id; anything else is no id', () => {
  for (const [input, want] of [
    [`${DASHED}\n`, ID],
    [ID, ID],
    [ID.toUpperCase(), ID],
    ['%b', undefined],
    ['', undefined],
    [undefined, undefined],
    [ID.slice(1), undefined],
    [`${ID}0`, undefined],
    [ID.replace('a', 'g'), undefined],
  ] as const) assert.equal(normaliseBootId(input), want, JSON.stringify(input));
});

test('currentBootId: the kernel\'s file first; DANE_RELAY_BOOT_ID only where it cannot be read; none valid: undefined', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-boot-'));
  try {
    const file = join(dir, 'boot_id');
    await writeFile(file, `${DASHED}\n`);
    const other = 'ffffffffffffffffffffffffffffffff';
    assert.equal(await currentBootId({ DANE_RELAY_BOOT_ID: other }, file), ID);
    const hidden = join(dir, 'missing');
    assert.equal(await currentBootId({ DANE_RELAY_BOOT_ID: other }, hidden), other);
    // An unexpanded specifier (the unit's line copied outside systemd) is not a boot id.
    assert.equal(await currentBootId({ DANE_RELAY_BOOT_ID: '%b' }, hidden), undefined);
    assert.equal(await currentBootId({}, hidden), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
