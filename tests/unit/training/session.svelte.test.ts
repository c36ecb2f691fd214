import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setDb, type LoupeDb } from '../../../src/lib/db/db';
import type { TrainJobSpec } from '../../../src/lib/training/job';
import { TrainingSession } from '../../../src/lib/training/session.svelte';
import type { ProgressCallback } from '../../../src/lib/progress';
import { makeDb } from '../factories';

/** The trainer worker, driven by the test: a job runs until the test ends it. */
const trainer = vi.hoisted(() => {
  const state = {
    progress: (() => {}) as ProgressCallback,
    created: (() => {}) as (runId: string) => void,
    finish: (() => {}) as (outcome: { runId: string; metrics: Record<string, number> }) => void,
    fail: (() => {}) as (error: unknown) => void,
    calls: [] as string[],
    cancelled: [] as string[],
  };
  const job = (method: string, onProgress: ProgressCallback, onRunCreated?: (runId: string) => void) => {
    state.calls.push(method);
    state.progress = onProgress;
    state.created = onRunCreated ?? (() => {});
    return new Promise((resolve, reject) => {
      state.finish = resolve;
      state.fail = reject;
    });
  };
  const api = {
    train: (_spec: unknown, _backend: string, onProgress: ProgressCallback, onRunCreated: (id: string) => void) => job('train', onProgress, onRunCreated),
    crossValidate: (_spec: unknown, _k: number, _backend: string, onProgress: ProgressCallback, onRunCreated: (id: string) => void) => job('crossValidate', onProgress, onRunCreated),
    resume: (_runId: string, _backend: string, onProgress: ProgressCallback) => job('resume', onProgress),
    cancel: async (runId: string) => void state.cancelled.push(runId),
  };
  return Object.assign(state, { api });
});
vi.mock('$lib/workers', () => ({ workers: () => ({ trainer: { api: () => trainer.api } }) }));

const spec: TrainJobSpec = { task: 'text-classification', datasetId: 'ds', model: { architecture: 'fasttext', dim: 8, buckets: 64 }, epochs: 2, batchSize: 4, optimizer: 'adam', learningRate: 0.01, seed: 1 };

let db: LoupeDb;
beforeAll(() => {
  db = makeDb();
  setDb(db);
});
afterAll(() => db.close());

describe('TrainingSession', () => {
  it('shows a job starting, running with its progress and curves, and completing with its metrics', async () => {
    const session = new TrainingSession();
    const done = session.start(spec, 'cpu');
    await vi.waitFor(() => expect(trainer.calls.at(-1)).toBe('train'));
    expect(session).toMatchObject({ state: 'starting', busy: true, epoch: 1, epochs: 2, progress: 0 });
    trainer.created('run-1');
    expect(session).toMatchObject({ state: 'running', runId: 'run-1' });
    trainer.progress({ kind: 'batch', epoch: 1, batch: 5, batches: 10, loss: 0.9, samplesPerSec: 120 });
    expect(session).toMatchObject({ batch: 5, batches: 10, samplesPerSec: 120, progress: 0.25 });
    expect(session.batchLoss).toEqual([{ x: 0.5, y: 0.9 }]);
    trainer.progress({ kind: 'epoch', epoch: 1, epochs: 2, metrics: { loss: 0.8, val_accuracy: 0.6 } });
    expect(session).toMatchObject({ epoch: 2, batch: 0, progress: 0.5 });
    expect(session.epochMetrics).toEqual({ loss: [{ x: 1, y: 0.8 }], val_accuracy: [{ x: 1, y: 0.6 }] });
    // An epoch counts as saved (what a reload resumes after) only once its checkpoint is stored.
    expect(session.savedEpoch).toBe(0);
    trainer.progress({ kind: 'checkpoint', epoch: 1, checkpointId: 'run-1:1' });
    expect(session.savedEpoch).toBe(1);
    await expect(session.start(spec, 'cpu')).rejects.toThrow(/already running/);
    trainer.finish({ runId: 'run-1', metrics: { val_accuracy: 0.7, epochs: 2 } });
    await done;
    expect(session).toMatchObject({ state: 'completed', busy: false, progress: 1, finalMetrics: { val_accuracy: 0.7, epochs: 2 } });

  });

  it('starts the curves over for each cross-validation fold and says which fold is training', async () => {
    const session = new TrainingSession();
    const done = session.start(spec, 'cpu', 3);
    await vi.waitFor(() => expect(trainer.calls.at(-1)).toBe('crossValidate'));
    trainer.created('parent');
    trainer.progress({ kind: 'fold', index: 0, k: 3 });
    trainer.progress({ kind: 'batch', epoch: 1, batch: 1, batches: 2, loss: 1 });
    trainer.progress({ kind: 'epoch', epoch: 1, epochs: 2, metrics: { loss: 1 } });
    expect(session.note).toBe('fold 1 of 3');
    expect(session.epochMetrics).toEqual({ loss: [{ x: 1, y: 1 }] });
    trainer.progress({ kind: 'fold', index: 1, k: 3 });
    expect(session.note).toBe('fold 2 of 3');
    expect([session.batchLoss, session.epochMetrics]).toEqual([[], {}]);
    trainer.progress({ kind: 'log', level: 'info', message: 'loading the dataset' });
    expect(session.note).toBe('loading the dataset');
    trainer.finish({ runId: 'parent', metrics: { val_accuracy_mean: 0.7 } });
    await done;
    expect(session.state).toBe('completed');
  });

  it('tells a cancelled job from a failed one by the error, not its wording', async () => {
    const session = new TrainingSession();
    let done = session.start(spec, 'cpu');
    await vi.waitFor(() => expect(trainer.calls).toHaveLength(3));
    trainer.created('run-2');
    await session.cancel();
    expect(trainer.cancelled).toEqual(['run-2']);
    // As comlink hands it over: a plain Error with the worker's name.
    trainer.fail(Object.assign(new Error('Training was cancelled.'), { name: 'TrainingCancelledError' }));
    await done;
    expect(session).toMatchObject({ state: 'cancelled', error: 'Training was cancelled.', busy: false });

    done = session.start(spec, 'cpu');
    await vi.waitFor(() => expect(trainer.calls).toHaveLength(4));
    trainer.fail(new Error('the page cancelled nothing: the loss became NaN'));
    await done;
    expect(session).toMatchObject({ state: 'failed', error: 'the page cancelled nothing: the loss became NaN' });
  });
});
