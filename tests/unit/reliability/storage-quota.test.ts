import * as tf from '@tensorflow/tfjs';
import Dexie from 'dexie';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { asStorageFull, isQuotaError, StorageFullError } from '../../../src/lib/db/quota';
import { InferenceLogger } from '../../../src/lib/monitoring/log';
import { foldLoggedRows } from '../../../src/lib/monitoring/rollups';
import type { LogRetention, Timers } from '../../../src/lib/serving/types';
import { decodeTensors, latestCheckpoint } from '../../../src/lib/training/checkpoints';
import { resumeTrainJob, runTrainJob, type TrainJobSpec } from '../../../src/lib/training/job';
import { entry } from '../datasets/factories';
import { makeDb, makeLogRow, makePredictionRecord, seedSentimentDataset } from '../factories';
import { installFakeQuota, type FakeQuota } from './storage-quota-fake';

const quotaDom = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('recognising a full storage', () => {
  it('sees the quota error in every wrapping the browser and Dexie use, and nothing else', () => {
    expect(isQuotaError(quotaDom())).toBe(true);
    expect(isQuotaError(new Dexie.QuotaExceededError('write failed', quotaDom()))).toBe(true);
    expect(isQuotaError(new Dexie.AbortError(quotaDom()))).toBe(true); // a transaction aborted at commit
    expect(isQuotaError(new Dexie.BulkError('bulkAdd failed', { 3: new Dexie.QuotaExceededError(quotaDom()) }))).toBe(true);
    expect(isQuotaError(new Error('saving failed', { cause: quotaDom() }))).toBe(true);
    // After crossing a worker boundary (comlink), only name and message survive.
    expect(isQuotaError({ name: 'StorageFullError', message: 'Storage is full: …' })).toBe(true);

    expect(isQuotaError(new Dexie.AbortError())).toBe(false);
    expect(isQuotaError(new Dexie.AbortError(new DOMException('', 'ConstraintError')))).toBe(false);
    expect(isQuotaError(new Error('QuotaExceededError'))).toBe(false); // a message is not a name
    expect(isQuotaError(undefined)).toBe(false);
  });

  it('turns it into one message that says what was not saved and what to do', () => {
    const error = asStorageFull(new Dexie.AbortError(quotaDom()), 'the checkpoint of epoch 2') as StorageFullError;
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error.message).toMatch(/^Storage is full: the checkpoint of epoch 2 could not be saved\. Nothing was half-written and the data saved earlier is intact\./);
    expect(error.message).toMatch(/Free space by deleting old runs, dataset versions or models \(export them first.*; then try again\.$/);
    const other = new Error('shapes do not match');
    expect(asStorageFull(other, 'x')).toBe(other);
  });
});

describe('storage full', () => {
  let quota: FakeQuota;
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  beforeEach(() => {
    quota = installFakeQuota();
  });
  afterEach(() => quota.uninstall());

  it('the fake refuses a commit the way Chromium does: Dexie sees an AbortError with the quota error inside, and nothing of it is stored', async () => {
    const db = makeDb();
    await db.settings.put({ key: 'before', value: 1 });
    quota.quota = quota.usage + 10;
    const error = await db.settings.put({ key: 'big', value: 'x'.repeat(100) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', inner: { name: 'QuotaExceededError' } });
    expect(isQuotaError(error)).toBe(true);
    expect((await db.settings.toArray()).map((s) => s.key)).toEqual(['before']);
    db.close();
  });

  it('during an import: says storage is full, stores no version and no staged sample, keeps earlier datasets, and imports once space is back', async () => {
    const db = makeDb();
    const earlier = await seedSentimentDataset(db);
    const before = { datasets: await db.datasets.toArray(), samples: await db.samples.count() };
    const csv = `text,label\n${Array.from({ length: 300 }, (_, i) => `tweet number ${i} about the ${['awful', 'okay', 'great'][i % 3]} service,${i % 3}`).join('\n')}\n`;
    // Room for a few 32-sample chunks, not for all ten: the quota runs out mid-import.
    quota.quota = quota.usage + 12_000;
    const failed = await importUpload(db, [entry('tweets.csv', csv)], { task: 'text-classification', name: 'tweets' }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StorageFullError);
    expect((failed as Error).message).toMatch(/^Storage is full: dataset "tweets" could not be saved\. Nothing was half-written/);
    expect(quota.refused).toBeGreaterThan(0);
    expect(quota.usage).toBeGreaterThan(before.samples); // some chunks were staged before the quota ran out…
    expect(await db.datasets.toArray()).toEqual(before.datasets); // …but no version exists without its items
    expect(await db.samples.count()).toBe(before.samples);
    expect(await db.samples.where('datasetId').startsWith('staging:').count()).toBe(0);
    expect(await db.samples.where('datasetId').equals(earlier).count()).toBe(before.samples);

    quota.quota = Infinity;
    const { dataset } = await importUpload(db, [entry('tweets.csv', csv)], { task: 'text-classification', name: 'tweets' });
    expect(dataset.sampleCount).toBe(300);
    expect(await db.samples.where('datasetId').equals(dataset.id).count()).toBe(300);
    db.close();
  });

  it('at a checkpoint: the run fails with the reason, resumable; the previous checkpoint stays the latest and loads; resume finishes the run', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const spec: TrainJobSpec = {
      task: 'text-classification',
      datasetId,
      model: { architecture: 'fasttext', dim: 8, buckets: 2048 },
      epochs: 3,
      batchSize: 16,
      optimizer: 'adam',
      learningRate: 0.03,
      seed: 5,
    };
    let runId = '';
    const events: string[] = [];
    const failed = await runTrainJob(db, spec, {
      backend: { backend: 'cpu', adapter: 'JavaScript CPU kernels' },
      onRunCreated: (id) => (runId = id),
      onProgress: (event) => {
        events.push(event.kind);
        // Epoch 1's checkpoint is stored; leave room for small writes but not for a second checkpoint.
        if (event.kind === 'checkpoint' && event.epoch === 1) quota.quota = quota.usage + 20_000;
      },
    }).catch((e: unknown) => e);

    expect(failed).toMatchObject({ name: 'StorageFullError' });
    const run = await db.runs.get(runId);
    expect(run).toMatchObject({ status: 'failed', resumable: true });
    expect(run!.failureReason).toMatch(/^Storage is full: the checkpoint of epoch 2 could not be saved\. .* Resume continues after epoch 1\.$/);
    expect(events.filter((k) => k === 'checkpoint')).toHaveLength(1);
    expect(events.at(-1)).toBe('failed');
    const checkpoints = await db.checkpoints.where('runId').equals(runId).toArray();
    expect(checkpoints.map((c) => c.epoch)).toEqual([1]); // no row claims an epoch that was not saved
    const latest = (await latestCheckpoint(db, runId))!;
    const weights = await decodeTensors(latest.weightSpecs, latest.shards);
    expect(weights.map((w) => w.shape)).toEqual([[2049, 8], [8, 3], [3]]);
    tf.dispose(weights);

    quota.quota = Infinity;
    const resumed = await resumeTrainJob(db, runId, { backend: { backend: 'cpu', adapter: 'JavaScript CPU kernels' } });
    resumed.trainable.dispose();
    await expect(db.runs.get(runId)).resolves.toMatchObject({ status: 'completed', resumable: false });
    const epochs = (await db.metricPoints.where('runId').equals(runId).toArray()).filter((p) => p.name === 'val_loss').map((p) => p.epoch);
    expect(epochs).toEqual([1, 2, 3]);
    db.close();
  });

  describe('in the inference log', () => {
    const keepAll: LogRetention = { maxRows: 0, maxAgeDays: 0, keepImages: true };
    const record = makePredictionRecord;

    function clock() {
      const pending = new Map<number, { fn: () => void; at: number }>();
      let next = 0;
      const state = { now: 0 };
      const timers: Timers = {
        set: (fn, ms) => (pending.set(++next, { fn, at: state.now + ms }), next),
        clear: (handle) => void pending.delete(handle as number),
      };
      /** Advances time, firing the timers that fall due. */
      const advance = (ms: number) => {
        state.now += ms;
        for (const [id, t] of [...pending]) {
          if (t.at <= state.now) {
            pending.delete(id);
            t.fn();
          }
        }
      };
      return { timers, now: () => state.now, advance, pending };
    }

    it('keeps earlier rows, says storage is full once per retry, holds new predictions in memory and writes them all once space is back', async () => {
      const db = makeDb();
      await db.inferenceLog.bulkAdd([makeLogRow({ ts: 1 }), makeLogRow({ ts: 2 })]);
      await foldLoggedRows(db); // in the rollups, as a logger would have left them
      const rollupsBefore = await db.rollups.toArray();
      const errors: unknown[] = [];
      const time = clock();
      const logger = new InferenceLogger(db, {
        retention: async () => keepAll,
        vocabulary: async () => undefined,
        retryWhenFullMs: 10_000,
        onError: (e) => errors.push(e),
        timers: time.timers,
        now: time.now,
      });
      quota.quota = quota.usage; // not one more byte
      await Promise.all([0, 1, 2, 3].map((i) => logger.record(record(i)))); // answered, though not written
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(StorageFullError);
      expect((errors[0] as Error).message).toMatch(/^Storage is full: 4 prediction\(s\) for the inference log could not be saved\. .*; they wait in this tab and are written once there is space\.$/);
      expect(await db.inferenceLog.count()).toBe(2); // the earlier rows are intact, nothing half-written
      expect(await db.rollups.toArray()).toEqual(rollupsBefore); // rows and rollups abort together

      // While storage is full, new predictions are answered at once and wait for the retry instead of each trying a write.
      await Promise.all(Array.from({ length: 8 }, (_, i) => logger.record(record(4 + i))));
      expect(errors).toHaveLength(1);
      expect(logger.pending).toBe(12);
      await logger.flush(); // a page-hide flush still tries (and fails) at once
      expect(errors).toHaveLength(2);

      quota.quota = Infinity; // the user freed space
      time.advance(10_000);
      await logger.flush();
      expect(errors).toHaveLength(2);
      expect(logger.pending).toBe(0);
      const rows = await db.inferenceLog.orderBy('ts').toArray();
      expect(rows.map((r) => r.input.text).slice(2)).toEqual(Array.from({ length: 12 }, (_, i) => `text ${i}`)); // none lost, in order
      expect((await db.rollups.toArray()).filter((r) => r.span === undefined).reduce((n, r) => n + r.count, 0)).toBe(14); // minute rollups: the 2 earlier rows and the 12
      db.close();
    });

    it('bounds what it holds while storage stays full, and says how many it dropped', async () => {
      const db = makeDb();
      const errors: Error[] = [];
      const time = clock();
      const logger = new InferenceLogger(db, {
        retention: async () => keepAll,
        vocabulary: async () => undefined,
        maxHeldRows: 6,
        onError: (e) => errors.push(e as Error),
        timers: time.timers,
        now: time.now,
      });
      quota.quota = 0;
      await Promise.all([0, 1, 2, 3].map((i) => logger.record(record(i))));
      await Promise.all([4, 5, 6, 7, 8, 9].map((i) => logger.record(record(i))));
      expect(logger.pending).toBe(6);
      time.advance(10_000);
      await logger.flush();
      expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/^Storage is full: 6 prediction\(s\) for the inference log \(4 older one\(s\) were dropped to bound memory\) could not be saved/));
      quota.quota = Infinity;
      time.advance(10_000);
      await logger.flush();
      expect((await db.inferenceLog.orderBy('ts').toArray()).map((r) => r.input.text)).toEqual([4, 5, 6, 7, 8, 9].map((i) => `text ${i}`));
      db.close();
    });
  });
});
