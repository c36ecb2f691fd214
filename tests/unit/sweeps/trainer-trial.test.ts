import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { getDb, setDb } from '../../../src/lib/db/db';
import { trialSpec } from '../../../src/lib/sweeps/parameters';
import { latestCheckpoint } from '../../../src/lib/training/checkpoints';
import { TrainerService } from '../../../src/lib/workers/trainer-service';
import { makeDb, seedSentimentDataset } from '../factories';

afterAll(() => getDb().close());

describe('TrainerService.sweepTrial (the worker side of a sweep)', () => {
  it('trains a trial as a run under the sweep and ends it where shouldStop says, without leaking tensors', async () => {
    const db = makeDb();
    setDb(db);
    const datasetId = await seedSentimentDataset(db);
    const trainer = new TrainerService();
    await trainer.useBackend('cpu');
    const spec = trialSpec('text-classification', datasetId, { architecture: 'fasttext', dim: 4, buckets: 1024, epochs: 3, learningRate: 0.05 }, 'trial 1');
    const asked: number[] = [];
    const created: string[] = [];
    const before = tf.memory().numTensors;
    const outcome = await trainer.sweepTrial(
      { kind: 'start', spec, sweepId: 'sweep-1' },
      'cpu',
      () => {},
      (id) => void created.push(id),
      (epoch) => (asked.push(epoch), epoch === 2),
    );
    expect(asked).toEqual([1, 2]);
    expect(created).toEqual([outcome.runId]);
    expect(outcome.metrics.epochs).toBe(2);
    expect(await db.runs.get(outcome.runId)).toMatchObject({ parentId: 'sweep-1', status: 'completed', name: 'trial 1' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a lexicon-aware trial when the sweep picks that architecture', async () => {
    const db = getDb();
    const datasetId = await seedSentimentDataset(db, 'lexicon trial');
    const trainer = new TrainerService();
    const spec = trialSpec('text-classification', datasetId, { architecture: 'lexicon-fasttext', ngramDropout: 0.5, dim: 4, buckets: 1024, epochs: 1 }, 'trial 2');
    const outcome = await trainer.sweepTrial({ kind: 'start', spec, sweepId: 'sweep-2' }, 'cpu', () => {}, () => {}, () => false);
    const run = await db.runs.get(outcome.runId);
    expect(run).toMatchObject({ parentId: 'sweep-2', status: 'completed' });
    expect(run?.params).toMatchObject({ model: { architecture: 'lexicon-fasttext', ngramDropout: 0.5 } });
  });

  it('trains an NB-SVM trial, its ratios fitted on the train split alone (72 of the 90 texts)', async () => {
    const db = getDb();
    const datasetId = await seedSentimentDataset(db, 'nbsvm trial');
    const trainer = new TrainerService();
    const spec = trialSpec('text-classification', datasetId, { architecture: 'nbsvm', C: 10, buckets: 4096, epochs: 3, learningRate: 0.1 }, 'trial 3');
    const outcome = await trainer.sweepTrial({ kind: 'start', spec, sweepId: 'sweep-3' }, 'cpu', () => {}, () => {}, () => false);
    const run = await db.runs.get(outcome.runId);
    expect(run).toMatchObject({ status: 'completed', params: { model: { architecture: 'nbsvm', C: 10, buckets: 4096 } } });
    const final = await latestCheckpoint(db, outcome.runId);
    const metadata = (JSON.parse(final!.modelJson!) as { userDefinedMetadata: { loupe: Record<string, unknown> } }).userDefinedMetadata.loupe;
    expect(metadata).toMatchObject({ architecture: 'nbsvm', trainingTexts: 72, labels: ['negative', 'neutral', 'positive'] });
    expect(outcome.metrics.val_accuracy).toBeGreaterThan(0.8);
  });
});
