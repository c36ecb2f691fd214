import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainable, predictInputs } from '../../../src/lib/tasks/loaded';
import { latestCheckpoint } from '../../../src/lib/training/checkpoints';
import { markInterruptedRuns, resumeTrainJob, runLockName, runTrainJob, type TrainJobSpec } from '../../../src/lib/training/job';
import { withLock } from '../../../src/lib/locks';
import { makeDb, makeRun, seedSentimentDataset } from '../factories';

const backend = { backend: 'cpu' as const, adapter: 'JavaScript CPU kernels' };
const spec = (datasetId: string): TrainJobSpec => ({
  task: 'sentiment',
  datasetId,
  model: { architecture: 'fasttext', dim: 8, buckets: 2048 },
  epochs: 5,
  batchSize: 16,
  optimizer: 'adam',
  learningRate: 0.03,
  seed: 11,
  earlyStopping: { monitor: 'val_accuracy', patience: 10 },
});

class SimulatedTabClose extends Error {}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('checkpoint and resume', () => {
  it('keeps only the latest checkpoint of a running run, with weights and optimizer state', async () => {
    const db = makeDb();
    let runId = '';
    await expect(
      runTrainJob(db, spec(await seedSentimentDataset(db)), {
        backend,
        onRunCreated: (id) => (runId = id),
        onProgress: (event) => {
          if (event.kind === 'checkpoint' && event.epoch === 2) throw new SimulatedTabClose();
        },
      }),
    ).rejects.toBeInstanceOf(SimulatedTabClose);
    const rows = await db.checkpoints.where('runId').equals(runId).toArray();
    expect(rows.map((r) => r.epoch)).toEqual([2]);
    const checkpoint = await latestCheckpoint(db, runId);
    expect(checkpoint?.weightSpecs.map((s) => s.shape)).toEqual([[2049, 8], [8, 3], [3]]);
    expect(checkpoint?.optimizerSpecs.length).toBeGreaterThan(3); // Adam: step + two moments per weight
    db.close();
  });

  it('ends a completed run with its final model as complete tfjs artifacts that predict the same', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const { runId, trainable } = await runTrainJob(db, { ...spec(datasetId), epochs: 2 }, { backend });
    const [final] = await db.checkpoints.where('runId').equals(runId).toArray();
    const json = JSON.parse(final!.modelJson);
    expect(json.modelTopology).toBeDefined();
    expect(json.userDefinedMetadata.loupe).toMatchObject({ task: 'sentiment', architecture: 'fasttext', labels: ['negative', 'neutral', 'positive'] });
    const reloaded = await loadTrainable(final!);
    const rows = await db.samples.limit(5).toArray();
    const a = await predictInputs(trainable, rows.map((r) => ({ text: r.text! })));
    const b = await predictInputs(reloaded, rows.map((r) => ({ text: r.text! })));
    expect(b).toEqual(a);
    trainable.dispose();
    reloaded.dispose();
    db.close();
  });

  it('resumes an interrupted run to the same metrics as an uninterrupted one', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const whole = await runTrainJob(db, spec(datasetId), { backend });
    whole.trainable.dispose();

    // The tab "closes" right after the checkpoint of epoch 2: nothing past it runs.
    let interruptedRun = '';
    await expect(
      runTrainJob(db, spec(datasetId), {
        backend,
        onRunCreated: (id) => (interruptedRun = id),
        onProgress: (event) => {
          if (event.kind === 'checkpoint' && event.epoch === 2) throw new SimulatedTabClose();
        },
      }),
    ).rejects.toBeInstanceOf(SimulatedTabClose);
    // A closed tab writes no final status: the run stays "running", with no one holding its lock.
    await db.runs.update(interruptedRun, { status: 'running', failureReason: undefined, endedAt: undefined });

    await expect(markInterruptedRuns(db)).resolves.toEqual([interruptedRun]);
    await expect(db.runs.get(interruptedRun)).resolves.toMatchObject({
      status: 'failed',
      resumable: true,
      failureReason: 'Interrupted: the tab closed during epoch 3. Resume continues after epoch 2.',
    });

    const resumed = await resumeTrainJob(db, interruptedRun, { backend });
    resumed.trainable.dispose();
    expect(resumed.metrics).toEqual(whole.metrics); // bit for bit: resume-exact.test.ts covers more state
    const run = await db.runs.get(interruptedRun);
    expect(run).toMatchObject({ status: 'completed', resumable: false });
    const valLoss = (await db.metricPoints.where('runId').equals(interruptedRun).toArray()).filter((p) => p.name === 'val_loss');
    expect(valLoss.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);
    db.close();
  });

  it('refuses to resume a run that ended normally', async () => {
    const db = makeDb();
    const { runId, trainable } = await runTrainJob(db, { ...spec(await seedSentimentDataset(db)), epochs: 1 }, { backend });
    trainable.dispose();
    await expect(resumeTrainJob(db, runId, { backend })).rejects.toThrow('is completed and cannot be resumed');
    db.close();
  });

  it('waits for each run lock instead of skipping it: a closing tab lock marks the run once released, a live run keeps its own ending', async () => {
    const db = makeDb();
    await db.runs.bulkAdd([makeRun({ id: 'closing', status: 'running' }), makeRun({ id: 'live', status: 'running' })]);
    let release!: () => void;
    const closing = withLock(runLockName('closing'), () => new Promise<void>((resolve) => setTimeout(resolve, 50)));
    const live = withLock(runLockName('live'), () => new Promise<void>((resolve) => (release = resolve)).then(() => db.runs.update('live', { status: 'completed' })));
    const marking = markInterruptedRuns(db);
    await closing;
    release();
    await live;
    await expect(marking).resolves.toEqual(['closing']);
    await expect(db.runs.get('closing')).resolves.toMatchObject({ status: 'failed', resumable: true });
    await expect(db.runs.get('live')).resolves.toMatchObject({ status: 'completed' });
    db.close();
  });
});
