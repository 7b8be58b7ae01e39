import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newRecord, serializeRecord } from '../../src/queue/record.ts';
import { Spool } from '../../src/queue/spool.ts';
import { tempSpool } from './helpers.ts';

describe('spool of the earlier two-file layout (body/ID + JSON control file)', () => {
  test('recover() converts it to one queue file per message, keeps deferred mtimes, keeps the body of a damaged control file, drops orphans', async () => {
    const { dir, cleanup } = await tempSpool();
    try {
      await mkdir(join(dir, 'body'));
      const old = (id: string, size: number) => serializeRecord(newRecord({ id, sender: 'a@src.test', recipients: ['r@dst.test'], receivedAt: 1, size, smtputf8: false, eightBit: false }));
      const content = 'Subject: queued before the upgrade\r\n\r\nhello\r\n';
      await writeFile(join(dir, 'body', 'AAAAAA000001'), content);
      await writeFile(join(dir, 'deferred', 'AAAAAA000001'), old('AAAAAA000001', 999));
      const due = new Date(Date.now() + 3_600_000);
      await utimes(join(dir, 'deferred', 'AAAAAA000001'), due, due);
      await writeFile(join(dir, 'body', 'AAAAAA000002'), content);
      await writeFile(join(dir, 'incoming', 'AAAAAA000002'), old('AAAAAA000002', content.length));
      await writeFile(join(dir, 'body', 'AAAAAA000003'), 'kept for the operator');
      await writeFile(join(dir, 'hold', 'AAAAAA000003'), '{"version":');
      await writeFile(join(dir, 'body', 'AAAAAA000004'), 'orphan');

      for (let run = 0; run < 2; run++) {
        const spool = await Spool.open(dir);
        await spool.recover();
        const deferred = await spool.readRecord('deferred', 'AAAAAA000001');
        assert.equal(deferred.kind, 'ok');
        if (deferred.kind !== 'ok') return;
        assert.equal(deferred.record.size, content.length, 'size is the body length');
        assert.equal((await spool.readContent('deferred', 'AAAAAA000001', deferred.record.size)).toString(), content);
        assert.equal(Math.round((await stat(spool.path('deferred', 'AAAAAA000001'))).mtimeMs / 1000), Math.round(due.getTime() / 1000), 'next attempt time kept');
        assert.equal((await spool.readRecord('incoming', 'AAAAAA000002')).kind, 'ok');
        assert.equal((await spool.readRecord('hold', 'AAAAAA000003')).kind, 'corrupt');
        assert.deepEqual(await readdir(join(dir, 'body')), ['AAAAAA000003'], `run ${run + 1}: converted and orphan bodies deleted, the damaged one's kept`);
        await spool.close();
      }
    } finally {
      await cleanup();
    }
  });

  test('a spool without body/ is left alone', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      await spool.recover();
      assert.deepEqual((await readdir(dir)).sort(), ['active', 'corrupt', 'deferred', 'hold', 'incoming', 'tmp']);
    } finally {
      await cleanup();
    }
  });
});
