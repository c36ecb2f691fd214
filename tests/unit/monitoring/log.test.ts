import { describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../../src/lib/hash';
import { readLogRetention, updateLogRetention } from '../../../src/lib/serving/config';
import { changeLogRetention, feedbackToDataset, InferenceLogger, pruneLog, setFeedback } from '../../../src/lib/monitoring/log';
import type { LogRetention, Timers } from '../../../src/lib/serving/types';
import { makeDb, makeLogRow, makePredictionRecord } from '../factories';
import { JPEG, PNG } from '../serving/fakes';

const DAY = 24 * 60 * 60 * 1000;
const keepAll: LogRetention = { maxRows: 0, maxAgeDays: 0, keepImages: true };

const record = makePredictionRecord;

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 0;
  const timers: Timers = {
    set: (fn) => {
      pending.set(++next, fn);
      return next;
    },
    clear: (handle) => void pending.delete(handle as number),
  };
  return {
    timers,
    get pending() {
      return pending.size;
    },
    fire() {
      const all = [...pending.values()];
      pending.clear();
      for (const fn of all) fn();
    },
  };
}

describe('InferenceLogger: batched writes', () => {
  it.each([1, 49, 50, 51, 120, 250])('writes %i predictions with at most ceil(N / 50) bulkAdds', async (n) => {
    const db = makeDb();
    const bulkAdd = vi.spyOn(db.inferenceLog, 'bulkAdd');
    const clock = manualTimers();
    const logger = new InferenceLogger(db, { batchSize: 50, timers: clock.timers, retention: async () => keepAll });
    for (let i = 0; i < n; i++) logger.record(record(i));
    await logger.flush();
    clock.fire();
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(n);
    expect(bulkAdd.mock.calls.length).toBeLessThanOrEqual(Math.ceil(n / 50));
    expect(bulkAdd.mock.calls.length).toBeGreaterThan(0);
  });

  it('writes a batch as soon as it is full, one bulkAdd per batch when predictions trickle in', async () => {
    const db = makeDb();
    const bulkAdd = vi.spyOn(db.inferenceLog, 'bulkAdd');
    const clock = manualTimers();
    const logger = new InferenceLogger(db, { batchSize: 10, timers: clock.timers, retention: async () => keepAll });
    for (let i = 0; i < 30; i++) {
      logger.record(record(i));
      await new Promise((resolve) => setTimeout(resolve, 0)); // requests arrive one by one
    }
    await logger.flush();
    expect(bulkAdd.mock.calls.map(([rows]) => rows.length)).toEqual([10, 10, 10]);
  });

  it('writes a partial batch when its timer fires, and not before', async () => {
    const db = makeDb();
    const clock = manualTimers();
    const logger = new InferenceLogger(db, { batchSize: 50, delayMs: 1000, timers: clock.timers, retention: async () => keepAll });
    logger.record(record(1));
    logger.record(record(2));
    expect(clock.pending).toBe(1); // one timer for the batch, not one per prediction
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await db.inferenceLog.count()).toBe(0);
    clock.fire();
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(2);
    expect(logger.pending).toBe(0);
  });

  it('flushes with real timers after the delay', async () => {
    const db = makeDb();
    const logger = new InferenceLogger(db, { batchSize: 50, delayMs: 30, retention: async () => keepAll });
    logger.record(record(1));
    await vi.waitFor(async () => expect(await db.inferenceLog.count()).toBe(1), { timeout: 2000, interval: 10 });
  });

  it('flushes when the page is hidden or unloaded', async () => {
    const db = makeDb();
    const clock = manualTimers();
    const logger = new InferenceLogger(db, { timers: clock.timers, retention: async () => keepAll });
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const win = new EventTarget();
    const detach = logger.attach(doc, win);
    logger.record(record(1));
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(async () => expect(await db.inferenceLog.count()).toBe(1), { timeout: 2000, interval: 10 });
    logger.record(record(2));
    win.dispatchEvent(new Event('pagehide'));
    await vi.waitFor(async () => expect(await db.inferenceLog.count()).toBe(2), { timeout: 2000, interval: 10 });
    detach();
    logger.record(record(3));
    win.dispatchEvent(new Event('pagehide'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await db.inferenceLog.count()).toBe(2);
  });

  it('flushes early when buffered images grow large', async () => {
    const db = makeDb();
    const clock = manualTimers();
    const logger = new InferenceLogger(db, { batchSize: 50, maxBufferedBytes: 40, timers: clock.timers, retention: async () => keepAll });
    const image = { bytes: new Uint8Array([...PNG, ...PNG]), type: 'image/png' as const };
    logger.record(record(1, { task: 'image-classification', model: 'car-damage', input: { image } }));
    logger.record(record(2, { task: 'image-classification', model: 'car-damage', input: { image } }));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(2);
  });

  it('stores texts, image hashes and sizes, and the images only when retention keeps them', async () => {
    const db = makeDb();
    let keepImages = false;
    const logger = new InferenceLogger(db, { retention: async () => ({ ...keepAll, keepImages }) });
    const front = { bytes: PNG, type: 'image/png' as const };
    const back = { bytes: JPEG, type: 'image/jpeg' as const };
    const prediction = { kind: 'regression' as const, value: 1862.4 };
    logger.record(record(1, { model: 'coin-year', task: 'coin-year', input: { front, back }, prediction }));
    await logger.flush();
    keepImages = true;
    logger.record(record(2, { model: 'coin-year', task: 'coin-year', input: { front, back }, prediction }));
    logger.record(record(3));
    await logger.flush();
    const [dropped, kept, text] = await db.inferenceLog.orderBy('ts').toArray();
    const hash = `${await sha256Hex(PNG)}+${await sha256Hex(JPEG)}`;
    expect(dropped!.input).toEqual({ hash, bytes: PNG.byteLength + JPEG.byteLength });
    expect(dropped).toMatchObject({ output: prediction, task: 'coin-year', batchSize: 1 });
    expect(dropped!.score).toBeUndefined();
    expect(kept!.input).toMatchObject({ hash, bytes: PNG.byteLength + JPEG.byteLength });
    expect(kept!.input.images!.map((b) => b.type)).toEqual(['image/png', 'image/jpeg']);
    expect(new Uint8Array(await kept!.input.images![1]!.arrayBuffer())).toEqual(JPEG);
    expect(text).toMatchObject({ input: { text: 'text 3' }, score: 0.6, source: 'rest', latencyMs: 12 });
  });

  it('reports a failed write and keeps logging afterwards', async () => {
    const db = makeDb();
    const errors: unknown[] = [];
    const logger = new InferenceLogger(db, { retention: async () => keepAll, onError: (e) => errors.push(e) });
    const bulkAdd = vi.spyOn(db.inferenceLog, 'bulkAdd').mockRejectedValueOnce(new Error('QuotaExceededError'));
    logger.record(record(1));
    await logger.flush();
    expect(errors).toHaveLength(1);
    logger.record(record(2));
    await logger.flush();
    expect(bulkAdd).toHaveBeenCalledTimes(2);
    expect(await db.inferenceLog.count()).toBe(1);
  });
});

describe('retention', () => {
  it('drops rows older than maxAgeDays', async () => {
    const db = makeDb();
    const now = 100 * DAY;
    await db.inferenceLog.bulkAdd([makeLogRow({ ts: now - 40 * DAY }), makeLogRow({ ts: now - 29 * DAY }), makeLogRow({ ts: now })]);
    await expect(pruneLog(db, { maxRows: 0, maxAgeDays: 30, keepImages: true }, now)).resolves.toMatchObject({ byAge: 1 });
    expect((await db.inferenceLog.toArray()).map((r) => r.ts)).toEqual([now - 29 * DAY, now]);
  });

  it('keeps the newest maxRows rows', async () => {
    const db = makeDb();
    await db.inferenceLog.bulkAdd(Array.from({ length: 10 }, (_, i) => makeLogRow({ ts: 1000 - i })));
    await expect(pruneLog(db, { maxRows: 4, maxAgeDays: 0, keepImages: true }, 1000)).resolves.toMatchObject({ byCount: 6 });
    expect((await db.inferenceLog.orderBy('ts').toArray()).map((r) => r.ts)).toEqual([997, 998, 999, 1000]);
  });

  it('drops stored images but keeps their hash and size when images are no longer kept', async () => {
    const db = makeDb();
    const images = [new Blob([PNG], { type: 'image/png' })];
    await db.inferenceLog.bulkAdd([makeLogRow({ input: { hash: 'h1', bytes: 16, images } }), makeLogRow({ input: { text: 'hi' } })]);
    await expect(pruneLog(db, { maxRows: 0, maxAgeDays: 0, keepImages: true }, 0)).resolves.toMatchObject({ imagesDropped: 0 });
    await expect(pruneLog(db, { maxRows: 0, maxAgeDays: 0, keepImages: false }, 0)).resolves.toMatchObject({ imagesDropped: 1 });
    expect((await db.inferenceLog.toArray()).map((r) => r.input)).toEqual([{ hash: 'h1', bytes: 16 }, { text: 'hi' }]);
  });

  it('applies a changed policy at once and stores it', async () => {
    const db = makeDb();
    const now = 100 * DAY;
    const images = [new Blob([PNG], { type: 'image/png' })];
    await db.inferenceLog.bulkAdd([
      makeLogRow({ ts: now - 40 * DAY }),
      ...Array.from({ length: 5 }, (_, i) => makeLogRow({ ts: now - i, input: { hash: `h${i}`, bytes: 16, images } })),
    ]);
    await expect(changeLogRetention(db, { maxAgeDays: 30, maxRows: 3, keepImages: true }, now)).resolves.toEqual({
      retention: { maxAgeDays: 30, maxRows: 3, keepImages: true },
      pruned: { byAge: 1, byCount: 2, imagesDropped: 0 },
    });
    const { retention, pruned } = await changeLogRetention(db, { keepImages: false }, now);
    expect(retention).toEqual({ maxAgeDays: 30, maxRows: 3, keepImages: false });
    expect(pruned).toEqual({ byAge: 0, byCount: 0, imagesDropped: 3 });
    await expect(readLogRetention(db)).resolves.toEqual(retention);
    expect((await db.inferenceLog.orderBy('ts').toArray()).map((r) => r.input)).toEqual([{ hash: 'h2', bytes: 16 }, { hash: 'h1', bytes: 16 }, { hash: 'h0', bytes: 16 }]);
  });

  it('is enforced after flushes, from the stored setting', async () => {
    const db = makeDb();
    await updateLogRetention(db, { maxRows: 5, maxAgeDays: 0 });
    const logger = new InferenceLogger(db, { pruneEveryMs: 0 });
    for (let i = 0; i < 12; i++) logger.record(record(i));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(5);
    expect((await db.inferenceLog.orderBy('ts').first())!.ts).toBe(1_700_000_000_000 + 7);
  });

  it('prunes at most once per interval', async () => {
    const db = makeDb();
    let now = 0;
    const logger = new InferenceLogger(db, { pruneEveryMs: 60_000, now: () => now, retention: async () => ({ maxRows: 1, maxAgeDays: 0, keepImages: true }) });
    logger.record(record(1));
    await logger.flush();
    logger.record(record(2));
    logger.record(record(3));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(3);
    now = 60_000;
    logger.record(record(4));
    await logger.flush();
    expect(await db.inferenceLog.count()).toBe(1);
  });
});

describe('feedback', () => {
  it('sets, validates and clears the true answer of a logged prediction', async () => {
    const db = makeDb();
    const coinId = (await db.inferenceLog.add(makeLogRow({ model: 'coin-year', output: { kind: 'regression', value: 1862.4 } })))!;
    const textId = (await db.inferenceLog.add(makeLogRow({ output: { kind: 'classification', label: 'positive' } })))!;
    await setFeedback(db, coinId, '1861', 5);
    await setFeedback(db, textId, ' negative ', 6);
    expect(await db.inferenceLog.get(coinId)).toMatchObject({ feedback: 1861, feedbackAt: 5 });
    expect(await db.inferenceLog.get(textId)).toMatchObject({ feedback: 'negative', feedbackAt: 6 });
    await expect(setFeedback(db, coinId, 'eighteen sixty')).rejects.toThrow(/must be a number/);
    await expect(setFeedback(db, 999, 'x')).rejects.toThrow(/does not exist/);
    await setFeedback(db, textId, undefined);
    expect((await db.inferenceLog.get(textId))!.feedback).toBeUndefined();
  });

  it('turns labelled rows of a model into {input, label} examples, oldest first', async () => {
    const db = makeDb();
    const image = new Blob([PNG], { type: 'image/png' });
    const ids = await db.inferenceLog.bulkAdd(
      [
        makeLogRow({ ts: 3, input: { text: 'so good' }, feedback: 'positive' }),
        makeLogRow({ ts: 1, input: { text: 'meh' }, feedback: 'neutral' }),
        makeLogRow({ ts: 2, input: { text: 'unlabelled' } }),
        makeLogRow({ ts: 4, model: 'car-damage', input: { hash: 'abc', bytes: 10, images: [image] }, feedback: 'major' }),
        makeLogRow({ ts: 5, model: 'car-damage', input: { hash: 'def', bytes: 20 }, feedback: 'minor' }),
        makeLogRow({ ts: 9, input: { text: 'too late' }, feedback: 'negative' }),
      ],
      { allKeys: true },
    );
    expect(await feedbackToDataset(db, { model: 'sentiment', to: 5 })).toEqual([
      { input: { text: 'meh' }, label: 'neutral', logId: ids[1], model: 'sentiment', version: 1, ts: 1 },
      { input: { text: 'so good' }, label: 'positive', logId: ids[0], model: 'sentiment', version: 1, ts: 3 },
    ]);
    const damage = await feedbackToDataset(db, { model: 'car-damage' });
    expect(damage.map((e) => [e.label, 'images' in e.input ? 'images' : e.input])).toEqual([
      ['major', 'images'],
      ['minor', { hash: 'def', bytes: 20 }],
    ]);
  });
});
