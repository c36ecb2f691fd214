import Dexie, { mergeRanges, type IntervalTree, type ObservabilitySet } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceLogger } from '../../../src/lib/monitoring/log';
import type { LoupeDb } from '../../../src/lib/db/db';
import { makeDb, makePredictionRecord } from '../factories';

/**
 * What a live query that never re-runs holds: every write's key ranges since, merged as Dexie merges them.
 * Opens the database first (creating it reports every table whole).
 */
async function accumulate(db: LoupeDb) {
  await db.open();
  const held: ObservabilitySet = {};
  const prefix = `idb://${db.name}/`;
  const listener = (parts: ObservabilitySet) => {
    for (const [part, ranges] of Object.entries(parts)) {
      if (!part.startsWith(prefix)) continue;
      if (held[part]) mergeRanges(held[part], ranges);
      else held[part] = structuredClone(ranges);
    }
  };
  Dexie.on('storagemutated', listener);
  stops.push(() => Dexie.on('storagemutated').unsubscribe(listener));
  const nodes = (tree: IntervalTree | null | undefined): number => (tree && 'from' in tree ? 1 + nodes(tree.l) + nodes(tree.r) : 0);
  return {
    /** Range nodes held for `table`'s parts (its primary key, deletions and every index). */
    nodes: (table: string) =>
      Object.entries(held)
        .filter(([part]) => part.startsWith(`${prefix}${table}/`))
        .reduce((sum, [, tree]) => sum + nodes(tree), 0),
  };
}

const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

describe('coarse observation of the per-request tables', () => {
  it('a live query that never re-runs holds the same few ranges after 10 or 60 logged predictions, one transaction each', async () => {
    const db = makeDb();
    const logger = new InferenceLogger(db, { retention: async () => ({ maxRows: 30, maxAgeDays: 0, keepImages: false }), vocabulary: async () => undefined });
    const held = await accumulate(db);
    // Each row, then its rollups (flushed at once rather than 100 ms later): one transaction each.
    const logOne = async (i: number) => {
      await logger.record(makePredictionRecord(i, { ts: 1_700_000_000_000 + i * 61_000, input: { text: `prediction ${i}` } }));
      await logger.flush();
    };
    for (let i = 0; i < 10; i++) await logOne(i);
    const after10 = { log: held.nodes('inferenceLog'), rollups: held.nodes('rollups') };
    for (let i = 10; i < 60; i++) await logOne(i);
    expect(await db.inferenceLog.count()).toBeLessThanOrEqual(60);
    // One whole-table range per index (pruning's deletes included), not one per row, minute or deletion.
    expect(after10.log).toBeGreaterThan(0);
    expect(held.nodes('inferenceLog')).toBe(after10.log);
    expect(held.nodes('rollups')).toBe(after10.rollups);
  });

  it('keeps key-exact ranges for other tables (a live query on one run is not woken by another)', async () => {
    const db = makeDb();
    const held = await accumulate(db);
    for (let i = 0; i < 5; i++) await db.settings.put({ key: `probe-${i}`, value: i });
    expect(held.nodes('settings')).toBeGreaterThanOrEqual(5);
  });
});
