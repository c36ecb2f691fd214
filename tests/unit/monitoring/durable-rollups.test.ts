import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import type { LoupeDb } from '../../../src/lib/db/db';
import { SCHEMA_VERSIONS } from '../../../src/lib/db/schema';
import { InferenceLogger, setFeedback } from '../../../src/lib/monitoring/log';
import { applyToRollups, foldedThrough, foldLoggedRows, hourKey, rebuildRollups, rollupsOf } from '../../../src/lib/monitoring/rollups';
import type { LogRetention } from '../../../src/lib/serving/types';
import { makeDb, makeLogRow, makePredictionRecord as record } from '../factories';

const keepAll: LogRetention = { maxRows: 0, maxAgeDays: 0, keepImages: true };

/** Predictions and feedback as Monitor and the Prometheus totals count them: minute and hourly rollups summed. */
async function counted(db: LoupeDb) {
  const rollups = await db.rollups.toArray();
  const sum = (hourly: boolean, field: (r: (typeof rollups)[number]) => number) => rollups.filter((r) => r.model.endsWith('\u0000h') === hourly).reduce((n, r) => n + field(r), 0);
  return { minutes: sum(false, (r) => r.count), hours: sum(true, (r) => r.count), feedback: sum(false, (r) => r.feedback.count), errors: sum(false, (r) => r.errors) };
}

/** Two connections to one database, as two tabs (or a tab and the one reopened after a kill) have. */
function twoConnections(): [LoupeDb, LoupeDb] {
  const factory = new IDBFactory();
  return [makeDb(undefined, factory, 'tabs'), makeDb(undefined, factory, 'tabs')];
}

/** A logger whose rollups' transaction never commits, as in a tab killed right after its answers went out. */
function killedBeforeRollups(db: LoupeDb): InferenceLogger {
  vi.spyOn(db.rollups, 'bulkPut').mockRejectedValue(new Error('the tab was killed'));
  return new InferenceLogger(db, { retention: async () => keepAll, vocabulary: async () => undefined, onError: () => {} });
}

describe('rollups follow the answered rows, exactly once', () => {
  it('answers once the row is committed, before its rollups; flush() leaves every row in the rollups once', async () => {
    const db = makeDb();
    const logger = new InferenceLogger(db, { retention: async () => keepAll, vocabulary: async () => undefined });
    await Promise.all(Array.from({ length: 30 }, (_, i) => logger.record(record(i))));
    expect(await db.inferenceLog.count()).toBe(30);
    await logger.flush();
    expect(await counted(db)).toEqual({ minutes: 30, hours: 30, feedback: 0, errors: 0 });
    expect(await foldedThrough(db)).toBe(30);
    await expect(foldLoggedRows(db)).resolves.toBe(0);
  });

  it('after a kill between the rows and their rollups, the next logger folds the answered rows in, once', async () => {
    const [tab, reopened] = twoConnections();
    const killed = killedBeforeRollups(tab);
    await Promise.all(Array.from({ length: 5 }, (_, i) => killed.record(record(i))));
    await killed.flush();
    expect(await tab.inferenceLog.count()).toBe(5);
    expect(await counted(tab)).toEqual({ minutes: 0, hours: 0, feedback: 0, errors: 0 }); // the rows are the record; their rollups never ran
    tab.close();

    const logger = new InferenceLogger(reopened, { retention: async () => keepAll, vocabulary: async () => undefined });
    await Promise.all([5, 6, 7].map((i) => logger.record(record(i))));
    await logger.flush();
    expect(await counted(reopened)).toEqual({ minutes: 8, hours: 8, feedback: 0, errors: 0 });
    expect(await foldedThrough(reopened)).toBe(8);
    await logger.record(record(8));
    await logger.flush();
    await expect(foldLoggedRows(reopened)).resolves.toBe(0);
    expect(await counted(reopened)).toEqual({ minutes: 9, hours: 9, feedback: 0, errors: 0 });
    // …and the rollups equal those computed from the raw rows.
    expect(await reopened.rollups.where('model').equals('sentiment').toArray()).toEqual(rollupsOf(await reopened.inferenceLog.toArray()));
  });

  it('at start-up, rows past the mark are counted before any chart reads the rollups, and a second pass adds nothing', async () => {
    const [tab, reopened] = twoConnections();
    const killed = killedBeforeRollups(tab);
    await Promise.all(Array.from({ length: 4 }, (_, i) => killed.record(record(i))));
    await killed.flush();
    tab.close();
    await expect(foldLoggedRows(reopened)).resolves.toBe(4);
    await expect(foldLoggedRows(reopened)).resolves.toBe(0);
    expect(await counted(reopened)).toEqual({ minutes: 4, hours: 4, feedback: 0, errors: 0 });
  });

  it('two tabs logging at once: every row is counted once, whichever tab folds it', async () => {
    const [a, b] = twoConnections();
    const options = { retention: async () => keepAll, vocabulary: async () => undefined, maxBatch: 3 };
    const [first, second] = [new InferenceLogger(a, options), new InferenceLogger(b, options)];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? first : second).record(record(i))));
    await Promise.all([first.flush(), second.flush()]);
    expect(await a.inferenceLog.count()).toBe(40);
    expect(await counted(a)).toEqual({ minutes: 40, hours: 40, feedback: 0, errors: 0 });
    expect(await foldedThrough(a)).toBe(40);
  });

  it('feedback on a row not yet in the rollups is counted once, and the row too', async () => {
    const [tab, reopened] = twoConnections();
    const killed = killedBeforeRollups(tab);
    await Promise.all([0, 1].map((i) => killed.record(record(i))));
    await killed.flush();
    tab.close();
    const [row] = await reopened.inferenceLog.toArray();
    await setFeedback(reopened, row!.id!, 'neutral');
    expect(await counted(reopened)).toEqual({ minutes: 2, hours: 2, feedback: 1, errors: 0 });
    await setFeedback(reopened, row!.id!, 'positive'); // changed: still one piece of feedback
    const logger = new InferenceLogger(reopened, { retention: async () => keepAll, vocabulary: async () => undefined });
    await logger.record(record(2));
    await logger.flush();
    expect(await counted(reopened)).toEqual({ minutes: 3, hours: 3, feedback: 1, errors: 0 });
  });

  it('a rebuild counts rows past the mark once: every model’s moves the mark, one model’s leaves them to the fold', async () => {
    const [tab, reopened] = twoConnections();
    const killed = killedBeforeRollups(tab);
    await Promise.all(Array.from({ length: 3 }, (_, i) => killed.record(record(i))));
    await killed.flush();
    tab.close();
    await expect(rebuildRollups(reopened, 'sentiment')).resolves.toBe(0); // nothing folded yet: one model's rebuild counts none of them
    await expect(foldLoggedRows(reopened)).resolves.toBe(3);
    expect(await counted(reopened)).toEqual({ minutes: 3, hours: 3, feedback: 0, errors: 0 });

    await reopened.inferenceLog.add(makeLogRow({ ts: 1_700_000_000_100 })); // committed, not folded
    await expect(rebuildRollups(reopened)).resolves.toBe(4);
    expect(await foldedThrough(reopened)).toBe(4);
    await expect(foldLoggedRows(reopened)).resolves.toBe(0);
    expect(await counted(reopened)).toEqual({ minutes: 4, hours: 4, feedback: 0, errors: 0 });
  });

  it('opens a log written before v7 with every row marked as counted (its rollups were written with it)', async () => {
    const factory = new IDBFactory();
    const v6 = makeDb(SCHEMA_VERSIONS.filter((v) => v.version <= 6), factory, 'upgrade-v7');
    const rows = [makeLogRow({ ts: 1 }), makeLogRow({ ts: 2 }), makeLogRow({ ts: 60_001 })];
    await v6.transaction('rw', v6.inferenceLog, v6.rollups, async () => {
      await v6.inferenceLog.bulkAdd(rows);
      await applyToRollups(v6, rows);
    });
    v6.close();
    const latest = makeDb(SCHEMA_VERSIONS, factory, 'upgrade-v7');
    expect(await foldedThrough(latest)).toBe(3);
    await expect(foldLoggedRows(latest)).resolves.toBe(0);
    expect(await counted(latest)).toEqual({ minutes: 3, hours: 3, feedback: 0, errors: 0 });
    expect(await latest.rollups.where('model').equals(hourKey('sentiment')).count()).toBe(1);
    latest.close();
  });
});
