import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoupeDb } from '../../../src/lib/db/db';
import { continueSweep, createSweep, runSweep, type TrialRunner } from '../../../src/lib/sweeps/controller';
import { registerBest } from '../../../src/lib/sweeps/register';
import { inProcessRunner } from '../../../src/lib/sweeps/runners';
import { TrainingCancelledError } from '../../../src/lib/training/loop';
import { RunTracker } from '../../../src/lib/training/run-tracker';
import { makeDb, seedSentimentDataset } from '../factories';

const backend = { backend: 'cpu' as const, adapter: 'JavaScript CPU kernels' };

/** A 4-trial grid over learning rate × width, 2 epochs each: seconds on the cpu backend. */
const GRID = `
name: lr x dim
task: sentiment
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  learningRate: {values: [0.002, 0.05]}
  dim: {values: [4, 8]}
  buckets: {value: 1024}
  epochs: {value: 2}
  batchSize: {value: 16}
`;

/** Counts what a runner was asked to do. */
function counting(runner: TrialRunner) {
  const calls = { start: 0, resume: 0 };
  const wrapped: TrialRunner = {
    start: (...args) => (calls.start++, runner.start(...args)),
    resume: (...args) => (calls.resume++, runner.resume(...args)),
    cancel: (runId) => runner.cancel(runId),
  };
  return { runner: wrapped, calls };
}

/** Copies every row of every table: the state a closed tab leaves in IndexedDB. */
async function snapshot(from: LoupeDb): Promise<LoupeDb> {
  const to = makeDb();
  await to.open();
  for (const table of from.tables) await to.table(table.name).bulkPut(await table.toArray());
  return to;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sweep controller with real training', () => {
  it('runs every grid trial as a run grouped under the sweep and picks the best by the metric', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const result = await runSweep(db, GRID, { datasetId, runner: inProcessRunner(db, backend) });
    expect(result.status).toBe('completed');
    expect(result.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const runs = await db.runs.where('parentId').equals(result.sweepId).sortBy('createdAt');
    expect(runs.map((r) => r.name)).toEqual(['lr x dim · trial 1', 'lr x dim · trial 2', 'lr x dim · trial 3', 'lr x dim · trial 4']);
    expect(runs.map((r) => [r.params.learningRate, (r.params.model as { dim: number }).dim])).toEqual([[0.002, 4], [0.05, 4], [0.002, 8], [0.05, 8]]); // sorted names, the last varies fastest
    // The dataset was imported under the sentiment preset: trials start from its model, the lexicon-aware one.
    expect(new Set(runs.map((r) => (r.params.model as { architecture: string }).architecture))).toEqual(new Set(['lexicon-fasttext']));
    for (const trial of result.trials) expect(trial.metric).toBe(runs.find((r) => r.id === trial.runId)!.metrics!.val_accuracy);
    const best = Math.max(...result.trials.map((t) => t.metric!));
    expect(result.bestMetric).toBe(best);
    expect(result.trials.find((t) => t.runId === result.bestRunId)!.metric).toBe(best);
    expect(best).toBeGreaterThan(0.6); // chance is 1/3

    const { registration, version } = await registerBest(db, result.sweepId, { name: 'sentiment' });
    expect(registration).toMatchObject({ name: 'sentiment', version: 1, runId: result.bestRunId, outcome: 'promoted' });
    expect(version.tags).toMatchObject({ sweep: result.sweepId });
    expect((await db.modelVersions.get('sentiment@1'))!.status).toBe('production');
    expect((await db.sweeps.get(result.sweepId))!.registered).toMatchObject({ outcome: 'promoted', version: 1 });
    // A second "register best" is the same run: it stays v1, with the gate's decision, and no version is added.
    const again = await registerBest(db, result.sweepId, { name: 'sentiment' });
    expect(again.version).toMatchObject({ version: 1, alreadyRegistered: true });
    expect(again.registration).toMatchObject({ version: 1, outcome: 'promoted' });
    expect(again.registration.reason).toMatch(/^Already registered as v1; the gate decided: /);
    expect(await db.modelVersions.count()).toBe(1);
    db.close();
  });

  it('resumes after an interruption without repeating a finished trial, reaching the same result', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const sweep = await createSweep(db, GRID, { datasetId });
    // Trial 3 pauses after its first epoch's checkpoint: copy the database there, as a closed tab leaves it.
    let interrupted: LoupeDb | undefined;
    const inner = inProcessRunner(db, backend);
    const pausing: TrialRunner = {
      ...inner,
      start: (spec, sweepId, hooks) =>
        inner.start(spec, sweepId, {
          ...hooks,
          shouldStop: async (epoch, metrics) => {
            if (spec.name?.endsWith('trial 3') && epoch === 1) interrupted = await snapshot(db);
            return hooks.shouldStop(epoch, metrics);
          },
        }),
    };
    const uninterrupted = await continueSweep(db, sweep.id, { runner: pausing });
    expect(interrupted).toBeDefined();
    const copy = interrupted!;
    const before = (await copy.sweeps.get(sweep.id))!;
    expect(before.status).toBe('running');
    expect(before.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'running']);

    const { runner, calls } = counting(inProcessRunner(copy, backend));
    const resumed = await continueSweep(copy, sweep.id, { runner });
    expect(calls).toEqual({ start: 1, resume: 1 }); // trial 3 continued from its checkpoint, trial 4 started
    expect(resumed.trials.slice(0, 3).map((t) => t.runId)).toEqual(before.trials.map((t) => t.runId));
    expect(await copy.runs.where('parentId').equals(sweep.id).count()).toBe(4);
    // Same data, seeds and backend: the resumed sweep ends exactly where the uninterrupted one did.
    expect(resumed.trials.map((t) => t.metric)).toEqual(uninterrupted.trials.map((t) => t.metric));
    expect(resumed.status).toBe('completed');
    // A finished sweep is never run again.
    const again = counting(inProcessRunner(copy, backend));
    await continueSweep(copy, sweep.id, { runner: again.runner });
    expect(again.calls).toEqual({ start: 0, resume: 0 });
    db.close();
    copy.close();
  });

  it('records a cancelled sweep, its cancelled trial and run, and does not run it again', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const controller = new AbortController();
    const sweep = await createSweep(db, GRID, { datasetId });
    const run = continueSweep(db, sweep.id, {
      runner: inProcessRunner(db, backend),
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === 'train' && event.index === 1 && event.event.kind === 'batch') controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(TrainingCancelledError);
    const row = (await db.sweeps.get(sweep.id))!;
    expect(row.status).toBe('cancelled');
    expect(row.trials.map((t) => t.status)).toEqual(['completed', 'cancelled']);
    expect((await db.runs.get(row.trials[1]!.runId!))!.status).toBe('cancelled');
    const again = counting(inProcessRunner(db, backend));
    await expect(continueSweep(db, sweep.id, { runner: again.runner })).resolves.toMatchObject({ status: 'cancelled' });
    expect(again.calls).toEqual({ start: 0, resume: 0 });
    db.close();
  });

  it('fails the sweep with the reason when its trials keep failing', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    await db.samples.where('datasetId').equals(datasetId).modify({ split: 'train' }); // no validation split
    const run = runSweep(db, GRID, { datasetId, runner: inProcessRunner(db, backend) });
    await expect(run).rejects.toThrow(/3 trials in a row failed; the last one: .*no samples in its val split/);
    const [row] = await db.sweeps.toArray();
    expect(row).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/no samples in its val split/) });
    expect(row!.trials.map((t) => t.status)).toEqual(['failed', 'failed', 'failed']);
    db.close();
  });

  it('stops a weak trial early through the trainer loop: its run completes with the epoch it stopped at', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const definition = {
      name: 'weak last',
      task: 'sentiment',
      method: 'grid',
      metric: { name: 'val_loss', goal: 'minimize' },
      // Two identical strong trials (ties pass), then one that barely moves from its initial loss.
      parameters: { learningRate: { values: [0.05, 0.05, 0.00001] }, dim: { value: 4 }, buckets: { value: 1024 }, epochs: { value: 3 } },
      early_terminate: { type: 'hyperband', min_iter: 1, eta: 2 },
    };
    const result = await runSweep(db, definition, { datasetId, runner: inProcessRunner(db, backend) });
    expect(result.trials.map((t) => [t.status, t.stoppedAt])).toEqual([['completed', undefined], ['completed', undefined], ['stopped', 1]]);
    const weak = (await db.runs.get(result.trials[2]!.runId!))!;
    expect(weak.status).toBe('completed');
    expect(weak.metrics).toMatchObject({ epochs: 1, val_loss: result.trials[2]!.metric });
    const epochs = new Set((await db.metricPoints.where('runId').equals(weak.id).toArray()).map((p) => p.epoch));
    expect([...epochs]).toEqual([1]);
    expect((await db.runs.get(result.trials[0]!.runId!))!.metrics!.epochs).toBe(3);
    expect(result.bestRunId).not.toBe(weak.id);
    db.close();
  });

  it('refuses a dataset of another task, naming both', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    await expect(createSweep(db, GRID.replace('task: sentiment', 'task: coin-year').replace('val_accuracy, goal: maximize', 'val_mae').replace(/ {2}dim.*\n| {2}buckets.*\n/g, ''), { datasetId })).rejects.toThrow(
      /dataset "test sentences" is for text-classification, but the sweep trains coin-year/,
    );
    db.close();
  });
});

describe('hyperband in the controller', () => {
  /**
   * A runner that trains nothing: each trial's run logs a scripted val_loss per epoch (from its
   * learning rate), asking `shouldStop` after each epoch as the trainer does.
   */
  function scripted(db: LoupeDb, curves: Record<number, number[]>): TrialRunner & { epochsRun: Record<number, number> } {
    const epochsRun: Record<number, number> = {};
    return {
      epochsRun,
      async start(spec, sweepId, hooks) {
        const curve = curves[spec.learningRate]!;
        const tracker = await RunTracker.create(db, { name: spec.name!, task: spec.task, params: { ...spec }, seed: spec.seed, datasetVersion: spec.datasetId, parentId: sweepId });
        hooks.onRunCreated(tracker.id);
        let metrics: Record<string, number> = {};
        for (let epoch = 1; epoch <= spec.epochs; epoch++) {
          metrics = { loss: curve[epoch - 1]!, val_loss: curve[epoch - 1]!, val_accuracy: 0.5 };
          tracker.log(epoch, metrics, epoch);
          await tracker.flush();
          epochsRun[spec.learningRate] = epoch;
          if (epoch < spec.epochs && (await hooks.shouldStop(epoch, metrics))) break;
        }
        await tracker.complete(metrics);
        return { runId: tracker.id, metrics };
      },
      resume: () => Promise.reject(new Error('not used')),
      cancel: async () => {},
    };
  }

  it('stops the trials outside the best 1/eta at each band, and only those', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    // Trials run in this order; val_loss per epoch (4 epochs). Bands with min_iter 1, eta 2: epochs 1 and 2.
    const curves = {
      0.1: [0.5, 0.4, 0.3, 0.2], // first: alone at every band, never stopped
      0.2: [0.9, 0.8, 0.7, 0.6], // two at epoch 1: bar is the worse of the two, so it passes
      0.3: [0.95, 0.9, 0.9, 0.9], // three at epoch 1: worse than the bar (0.9) → stopped after epoch 1
      0.4: [0.6, 0.85, 0.2, 0.1], // epoch 1: 0.6 ≤ bar (0.9); epoch 2: bar among 0.4, 0.8, 0.85 is 0.8 → stopped after epoch 2
      0.5: [0.45, 0.35, 0.25, 0.15], // among the best everywhere: runs all 4 epochs
    };
    const runner = scripted(db, curves);
    const definition = {
      task: 'sentiment',
      method: 'grid',
      metric: { name: 'val_loss', goal: 'minimize' },
      parameters: { learningRate: { values: [0.1, 0.2, 0.3, 0.4, 0.5] }, epochs: { value: 4 } },
      early_terminate: { type: 'hyperband', min_iter: 1, eta: 2 },
    };
    const result = await runSweep(db, definition, { datasetId, runner });
    expect(result.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'stopped', 'stopped', 'completed']);
    expect(result.trials.map((t) => t.stoppedAt)).toEqual([undefined, undefined, 1, 2, undefined]);
    expect(runner.epochsRun).toEqual({ 0.1: 4, 0.2: 4, 0.3: 1, 0.4: 2, 0.5: 4 });
    expect(result.trials[2]!.reason).toMatch(/hyperband stopped it after epoch 1: val_loss 0\.95 is worse than 0\.9, the bar among 3 trials/);
    // A stopped trial keeps the metric it had when stopped, and can still be the best.
    expect(result.trials[3]!.metric).toBe(0.85);
    expect(result.bestMetric).toBe(0.15);
    db.close();
  });

  it('fails a trial whose runs do not record the sweep metric, saying what they record', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const sweep = await createSweep(db, { task: 'sentiment', method: 'grid', metric: { name: 'val_macroF1' }, parameters: { learningRate: { value: 0.1 }, epochs: { value: 2 } } }, { datasetId });
    await expect(continueSweep(db, sweep.id, { runner: scripted(db, { 0.1: [0.5, 0.4] }) })).rejects.toThrow(/no trial finished/);
    const [trial] = (await db.sweeps.get(sweep.id))!.trials;
    expect(trial!.reason).toMatch(/metric\.name "val_macroF1" is not recorded by these runs; they record loss, val_loss, val_accuracy/);
    db.close();
  });
});
