import { describe, expect, it } from 'vitest';
import { InferenceLogger } from '../../../src/lib/monitoring/log';
import type { LogRetention } from '../../../src/lib/serving/types';
import { makeDb, makeLogRow, makePredictionRecord } from '../factories';

const record = (i: number) => makePredictionRecord(i, { latencyMs: 3, backend: 'wasm' });

/**
 * Issue #13, soak: with retention on, a busy log stays near its limit. Retention ran at most once a
 * minute, so at ~100 predictions a second the log outgrew a 500-row limit fourfold between passes.
 */
describe('inference log retention under a stream of predictions', () => {
  it('keeps the log within max(50, 10%) rows of maxRows while the clock stands still', async () => {
    const db = makeDb();
    const retention: LogRetention = { maxRows: 500, maxAgeDays: 30, keepImages: false };
    const logger = new InferenceLogger(db, { now: () => 1_700_000_000_000, pruneEveryMs: 60_000, retention: async () => retention, vocabulary: async () => undefined });
    const sizes: number[] = [];
    for (let i = 0; i < 3000; i++) {
      logger.record(record(i));
      if (i % 50 === 49) {
        await logger.flush();
        sizes.push(await db.inferenceLog.count());
      }
    }
    await logger.flush();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500 + 50);
    const kept = await db.inferenceLog.orderBy('ts').toArray();
    expect(kept.length).toBeGreaterThanOrEqual(500);
    // The newest rows are the ones kept, and every one of them was written.
    expect(kept.at(-1)!.input.text).toBe('text 2999');
    expect(kept.map((row) => row.input.text)).toEqual(Array.from({ length: kept.length }, (_, j) => `text ${3000 - kept.length + j}`));
  });

  it('passes over a log with no row limit, and waits for 10% of a large limit before counting again', async () => {
    const db = makeDb();
    let retention: LogRetention = { maxRows: 0, maxAgeDays: 0, keepImages: true };
    const logger = new InferenceLogger(db, { now: () => 0, pruneEveryMs: 60_000, retention: async () => retention, vocabulary: async () => undefined });
    for (let i = 0; i < 400; i++) logger.record(record(i));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(400);
    retention = { maxRows: 1000, maxAgeDays: 0, keepImages: true };
    await db.inferenceLog.bulkAdd(Array.from({ length: 1000 }, (_, i) => makeLogRow({ ts: i, input: { text: 'old' } })));
    for (let i = 0; i < 99; i++) logger.record(record(1000 + i));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(1499); // 99 < 10% of 1000 rows written since the first pass
    logger.record(record(2000));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(1000);
  });
});
