import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { DB_NAME } from '../../../src/lib/db/db';
import { updateServingSettings } from '../../../src/lib/serving/config';
import { cachedLimit, readStoredBodyLimit, STUDIO_DB_NAME } from '../../../src/lib/serving/stored-limit';
import { DEFAULT_SERVING_LIMITS } from '../../../src/lib/serving/types';
import { makeDb } from '../factories';

describe("the service worker's request limit", () => {
  it('reads the studio database', () => {
    expect(STUDIO_DB_NAME).toBe(DB_NAME);
  });

  it('is the stored serving setting, read without the studio', async () => {
    const factory = new IDBFactory();
    const db = makeDb(undefined, factory, STUDIO_DB_NAME);
    await expect(readStoredBodyLimit(factory)).resolves.toBe(DEFAULT_SERVING_LIMITS.maxBodyBytes); // no setting yet
    await updateServingSettings(db, { maxBodyBytes: 1_234_567 });
    await expect(readStoredBodyLimit(factory)).resolves.toBe(1_234_567);
    // The worker closes its connection: the studio can still upgrade its schema.
    db.close();
    const reopened = makeDb(undefined, factory, STUDIO_DB_NAME);
    await reopened.open();
    reopened.close();
  });

  it('is the default before the studio ever opened, and creates no database', async () => {
    const factory = new IDBFactory();
    await expect(readStoredBodyLimit(factory)).resolves.toBe(DEFAULT_SERVING_LIMITS.maxBodyBytes);
    expect(await factory.databases()).toEqual([]);
  });

  it('is read at most once per interval, a burst sharing one read', async () => {
    let reads = 0;
    let now = 0;
    const limit = cachedLimit(async () => ++reads * 100, 1000, () => now);
    expect(await Promise.all([limit(), limit(), limit()])).toEqual([100, 100, 100]);
    now = 999;
    await expect(limit()).resolves.toBe(100);
    now = 1000;
    await expect(limit()).resolves.toBe(200);
    expect(reads).toBe(2);
  });
});
