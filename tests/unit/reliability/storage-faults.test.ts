import * as tf from '@tensorflow/tfjs';
import Dexie from 'dexie';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { PRODUCTION } from '../../../src/lib/registry/registry';
import { runTrainJob, type TrainJobSpec } from '../../../src/lib/training/job';
import { makeDb, seedSentimentDataset } from '../factories';
import { makeRegistry, registerInput, tableEvaluator } from '../registry/helpers';

const EVAL = 'eval-ds-1';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a tab closed in the middle of a promotion', () => {
  it('leaves exactly one production version: the browser aborts the unfinished transaction whole, and another tab promotes afterwards', async () => {
    const db = makeDb();
    const tabA = makeRegistry({}, db);
    const tabB = makeRegistry({}, db);
    for (let i = 0; i < 2; i++) await tabA.register(registerInput());
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 11, rmse: 15 } });
    await tabA.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    const decisionsBefore = await db.gateDecisions.count();

    // Tab A's gate passed and its transaction has already moved the alias and marked v2 production when
    // the tab goes away: the browser aborts the transaction, which is what closing a tab does to one
    // that has not committed.
    const update = db.modelVersions.update.bind(db.modelVersions);
    const spy = vi.spyOn(db.modelVersions, 'update').mockImplementation((key, changes) => {
      if ((changes as { status?: string }).status === 'archived') {
        Dexie.currentTransaction!.abort();
        return Dexie.Promise.reject(new Error('the tab was closed'));
      }
      return update(key, changes);
    });
    await expect(tabA.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate })).rejects.toThrow();
    spy.mockRestore();

    const state = async () => ({
      alias: (await db.aliases.get(['coin-year', PRODUCTION]))?.version,
      statuses: Object.fromEntries((await db.modelVersions.toArray()).map((v) => [v.version, v.status])),
    });
    // Nothing of the unfinished promotion remains: v1 is still the one production version, no decision recorded.
    expect(await state()).toEqual({ alias: 1, statuses: { 1: 'production', 2: 'candidate' } });
    expect(await db.gateDecisions.count()).toBe(decisionsBefore);

    // The other tab is not blocked by the closed one (its lock went with it) and promotes normally.
    await tabB.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate });
    expect(await state()).toEqual({ alias: 2, statuses: { 1: 'archived', 2: 'production' } });
    db.close();
  });
});

describe('a loss that becomes NaN', () => {
  it('fails the run, recorded with the reason and what to change', async () => {
    const db = makeDb();
    const spec: TrainJobSpec = {
      task: 'text-classification',
      datasetId: await seedSentimentDataset(db),
      model: { architecture: 'fasttext', dim: 8, buckets: 512 },
      epochs: 3,
      batchSize: 16,
      optimizer: 'sgd',
      learningRate: 1e30, // diverges in the first steps
      seed: 3,
      readEvery: 1,
    };
    let runId = '';
    const before = tf.memory().numTensors;
    const error = await runTrainJob(db, spec, { backend: { backend: 'cpu', adapter: 'cpu' }, onRunCreated: (id) => (runId = id) }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^The loss became NaN at epoch 1, batch \d+\. Lower the learning rate/);
    const run = await db.runs.get(runId);
    expect(run).toMatchObject({ status: 'failed', failureReason: (error as Error).message });
    expect(run?.resumable).toBeFalsy(); // resuming would diverge again: the settings must change
    expect(tf.memory().numTensors).toBe(before); // no tensor leaked on the failure path (SGD's momentum optimizer included)
    db.close();
  });
});
