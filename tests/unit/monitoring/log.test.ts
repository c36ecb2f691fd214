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

describe('InferenceLogger: group commit', () => {
  it('resolves record() only once the row is committed, so an answer never outruns its row', async () => {
    const db = makeDb();
    const logger = new InferenceLogger(db, { retention: async () => keepAll });
    await logger.record(record(1));
    expect(await db.inferenceLog.count()).toBe(1);
    await Promise.all([logger.record(record(2)), logger.record(record(3))]);
    expect((await db.inferenceLog.orderBy('ts').toArray()).map((r) => r.input.text)).toEqual(['text 1', 'text 2', 'text 3']);
    expect(logger.pending).toBe(0);
  });

  it.each([1, 49, 120, 250])('writes %i predictions arriving together in one transaction (at most maxBatch rows each)', async (n) => {
    const db = makeDb();
    const bulkAdd = vi.spyOn(db.inferenceLog, 'bulkAdd');
    const logger = new InferenceLogger(db, { maxBatch: 100, retention: async () => keepAll });
    await Promise.all(Array.from({ length: n }, (_, i) => logger.record(record(i))));
    expect(await db.inferenceLog.count()).toBe(n);
    expect(bulkAdd.mock.calls.map(([rows]) => rows.length)).toEqual(Array.from({ length: Math.ceil(n / 100) }, (_, i) => Math.min(100, n - i * 100)));
  });

  it('gathers the predictions that arrive while a write is in flight into the next transaction', async () => {
    const db = makeDb();
    const original = db.inferenceLog.bulkAdd.bind(db.inferenceLog);
    const later: Promise<void>[] = [];
    const logger = new InferenceLogger(db, { retention: async () => keepAll });
    const bulkAdd = vi.spyOn(db.inferenceLog, 'bulkAdd').mockImplementation(((rows: never[]) => {
      // 30 requests answered by the model while the first row's transaction runs, one task apart each.
      if (bulkAdd.mock.calls.length === 1) for (let i = 1; i <= 30; i++) setTimeout(() => later.push(logger.record(record(i))), 0);
      return original(rows);
    }) as typeof db.inferenceLog.bulkAdd);
    await logger.record(record(0));
    await vi.waitFor(() => expect(later).toHaveLength(30));
    await Promise.all(later);
    expect(await db.inferenceLog.count()).toBe(31);
    const sizes = bulkAdd.mock.calls.map(([rows]) => rows.length);
    expect(sizes[0]).toBe(1);
    expect(sizes.length).toBeLessThan(10); // shared transactions, not one per request
  });

  it('waits windowMs for company when asked to, one timer per transaction', async () => {
    const db = makeDb();
    const clock = manualTimers();
    const logger = new InferenceLogger(db, { windowMs: 5, timers: clock.timers, retention: async () => keepAll });
    const written = [logger.record(record(1)), logger.record(record(2))];
    expect(clock.pending).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await db.inferenceLog.count()).toBe(0);
    clock.fire();
    await Promise.all(written);
    expect(await db.inferenceLog.count()).toBe(2);
  });

  it('splits a transaction when its images grow large', async () => {
    const db = makeDb();
    const bulkAdd = vi.spyOn(db.inferenceLog, 'bulkAdd');
    const logger = new InferenceLogger(db, { maxBufferedBytes: 40, retention: async () => keepAll });
    const image = { bytes: new Uint8Array([...PNG, ...PNG]), type: 'image/png' as const };
    await Promise.all([1, 2].map((i) => logger.record(record(i, { task: 'image-classification', model: 'car-damage', input: { image } }))));
    expect(bulkAdd.mock.calls.map(([rows]) => rows.length)).toEqual([1, 1]);
  });

  it('counts a failed request in the rollups before the error is answered', async () => {
    const db = makeDb();
    const logger = new InferenceLogger(db, { retention: async () => keepAll });
    await logger.recordFailure({ ts: 1_700_000_000_000, model: 'sentiment', version: 1, source: 'rest', error: 'WorkerCrashedError' });
    expect((await db.rollups.toArray()).filter((r) => r.span === undefined).map((r) => r.errors)).toEqual([1]);
  });

  it('retries the rows held while storage is full when the page is hidden or unloaded', async () => {
    const db = makeDb();
    const clock = manualTimers();
    const errors: unknown[] = [];
    const logger = new InferenceLogger(db, { timers: clock.timers, retention: async () => keepAll, onError: (e) => errors.push(e) });
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const win = new EventTarget();
    const detach = logger.attach(doc, win);
    vi.spyOn(db.inferenceLog, 'bulkAdd').mockRejectedValueOnce(new DOMException('full', 'QuotaExceededError'));
    await logger.record(record(1)); // answered while held
    expect(errors).toHaveLength(1);
    expect(logger.pending).toBe(1);
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(async () => expect(await db.inferenceLog.count()).toBe(1), { timeout: 2000, interval: 10 });
    detach();
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
    await logger.record(record(1)); // the answer is not held back by a write that failed
    expect(errors).toHaveLength(1);
    await logger.record(record(2));
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
