import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { BACKUP_FORMAT, eraseEverything, exportEverything, USER_CACHE_PREFIX } from '../../../src/lib/backup';
import { LATEST_SCHEMA_VERSION } from '../../../src/lib/db/schema';
import { makeDb, makeLogRow, makeRun } from '../factories';

async function unzipBlob(blob: Blob) {
  return unzipSync(new Uint8Array(await blob.arrayBuffer()));
}

describe('exportEverything', () => {
  it('writes every table into one zip, with blobs as their own entries', async () => {
    const db = makeDb();
    const runs = Array.from({ length: 450 }, (_, i) => makeRun({ id: `run-${i}` })); // more than one page
    await db.runs.bulkAdd(runs);
    await db.samples.add({
      id: 's1',
      datasetId: 'd1',
      split: 'train',
      label: 'minor',
      hash: 'h1',
      path: 'minor/a.png',
      blobs: [new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' })],
    });
    await db.inferenceLog.add(makeLogRow());

    const files = await unzipBlob(await exportEverything(db));
    const backup = JSON.parse(strFromU8(files['backup.json']!));
    expect(backup).toMatchObject({ format: BACKUP_FORMAT, schemaVersion: LATEST_SCHEMA_VERSION });
    expect(Object.keys(backup.tables).sort()).toEqual(db.tables.map((t) => t.name).sort());
    expect(backup.tables.runs).toHaveLength(450);
    const [sample] = backup.tables.samples;
    expect(sample.blobs).toEqual([{ $blob: 'blobs/0', type: 'image/png' }]);
    expect([...files['blobs/0']!]).toEqual([137, 80, 78, 71]);
    expect(backup.tables.inferenceLog[0]).toMatchObject({ model: 'sentiment', latencyMs: 16.3 });
    db.close();
  });
});

describe('eraseEverything', () => {
  it('empties every table and Loupe’s runtime caches, but not the app’s own cache', async () => {
    const db = makeDb();
    await db.runs.add(makeRun());
    await db.settings.put({ key: 'backend', value: 'wasm' });
    const deleted: string[] = [];
    const caches = {
      keys: async () => [`${USER_CACHE_PREFIX}models`, 'workbox-precache-v2'],
      delete: async (name: string) => (deleted.push(name), true),
    } as unknown as CacheStorage;

    await eraseEverything(db, caches);

    for (const table of db.tables) await expect(table.count()).resolves.toBe(0);
    expect(deleted).toEqual([`${USER_CACHE_PREFIX}models`]);
    await db.runs.add(makeRun()); // still usable afterwards
    await expect(db.runs.count()).resolves.toBe(1);
    db.close();
  });
});
