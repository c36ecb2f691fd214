import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { runTrainJob, type TrainJobSpec } from '../../../src/lib/training/job';
import { TrainingCancelledError } from '../../../src/lib/training/loop';
import type { ProgressEvent } from '../../../src/lib/progress';
import { makeDb, seedSentimentDataset } from '../factories';

const backend = { backend: 'cpu' as const, adapter: 'JavaScript CPU kernels' };
const spec = (datasetId: string, overrides: Partial<TrainJobSpec> = {}): TrainJobSpec => ({
  task: 'sentiment',
  datasetId,
  model: { architecture: 'fasttext', dim: 16, buckets: 4096 },
  epochs: 8,
  batchSize: 16,
  optimizer: 'adam',
  learningRate: 0.05,
  seed: 3,
  ...overrides,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('runTrainJob', () => {
  it('trains a text classifier from stored samples and records a completed run', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const events: ProgressEvent[] = [];
    const { runId, metrics, trainable } = await runTrainJob(db, spec(datasetId), { backend, onProgress: (e) => void events.push(e) });
    trainable.dispose();

    expect(metrics.val_accuracy).toBeGreaterThan(0.8); // chance is 1/3
    const run = await db.runs.get(runId);
    expect(run).toMatchObject({ status: 'completed', backend: 'cpu', datasetVersion: datasetId, seed: 3 });
    expect(run?.params).toMatchObject({ epochs: 8, learningRate: 0.05 });
    const losses = (await db.metricPoints.where('runId').equals(runId).toArray()).filter((p) => p.name === 'val_loss');
    expect(losses).toHaveLength(8);
    expect(losses.at(-1)!.value).toBeLessThan(losses[0]!.value);
    expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(8);
    expect(events.at(-1)?.kind).toBe('done');
    expect(run?.analysis).toMatchObject({ kind: 'classification', count: 18, labels: ['negative', 'neutral', 'positive'] });
    // The score 90 % of validation predictions reach, kept for the Predict page's low-confidence note.
    expect(run?.trainedOn?.lowScore).toBeGreaterThan(1 / 3);
    expect(run?.trainedOn?.lowScore).toBeLessThanOrEqual(1);
    expect(run?.trainingMs).toBeGreaterThan(0);
    db.close();
  });

  it('trains a 2-class model on a negative/positive CSV, its macro-F1 scikit-learn\'s over those two classes', async () => {
    const db = makeDb();
    const good = ['great', 'love', 'amazing', 'wonderful', 'excellent'];
    const bad = ['awful', 'terrible', 'hate', 'broken', 'worst'];
    const rows = Array.from({ length: 40 }, (_, i) => `the phone is ${(i % 2 ? good : bad)[i % 5]} ${i},${i % 2 ? 'positive' : 'negative'},train`);
    // Held-out texts share few words with training, so the model makes mistakes of both kinds.
    const held = ['great but broken', 'love the worst', 'just a phone', 'an ordinary day', 'amazing', 'awful', 'terrible and wonderful', 'excellent hate', 'nothing much', 'a plain box'];
    const labels = ['positive', 'negative', 'positive', 'negative', 'positive', 'negative', 'negative', 'positive', 'positive', 'negative'];
    const csv = ['text,label,split', ...rows, ...held.map((t, i) => `${t},${labels[i]},val`)].join('\n');
    const { dataset } = await importUpload(db, [{ path: 'reviews.csv', file: new Blob([csv]) }], { task: 'sentiment', name: 'reviews' });
    expect(dataset.labels).toEqual(['negative', 'positive']);

    const { runId, metrics, trainable } = await runTrainJob(db, spec(dataset.id, { epochs: 3 }), { backend });
    expect(trainable.labels).toEqual(['negative', 'positive']);
    trainable.dispose();
    const analysis = (await db.runs.get(runId))!.analysis!;
    if (analysis.kind !== 'classification') throw new Error('expected a classification analysis');
    expect(analysis.labels).toEqual(['negative', 'positive']);
    expect(analysis.confusion).toHaveLength(2);
    // By hand from the confusion matrix [[TN, FP], [FN, TP]] (rows: true negative, true positive):
    // F1(c) = 2·TP(c) / (2·TP(c) + FP(c) + FN(c)), macro-F1 = their mean over the 2 classes — scikit-learn's
    // f1_score(average='macro'); a phantom third class would divide by 3.
    const [[tn, fp], [fn, tp]] = analysis.confusion as [[number, number], [number, number]];
    expect(tn + fp + fn + tp).toBe(10);
    const f1 = (hits: number, wrong: number) => (hits ? (2 * hits) / (2 * hits + wrong) : 0);
    const macroF1 = (f1(tn, fn + fp) + f1(tp, fp + fn)) / 2;
    expect(metrics.val_macroF1).toBeCloseTo(macroF1, 6);
    expect(metrics.val_accuracy).toBeCloseTo((tn + tp) / 10, 6);
    expect(analysis.macroF1.estimate).toBeCloseTo(macroF1, 12);
    db.close();
  });

  it('gives the same metrics for the same data, seed and backend', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const a = await runTrainJob(db, spec(datasetId, { epochs: 3 }), { backend });
    const b = await runTrainJob(db, spec(datasetId, { epochs: 3 }), { backend });
    a.trainable.dispose();
    b.trainable.dispose();
    expect(b.metrics).toEqual(a.metrics);
    db.close();
  });

  it('does not leak tensors across a whole job', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const before = tf.memory().numTensors;
    const { trainable } = await runTrainJob(db, spec(datasetId, { epochs: 2 }), { backend });
    trainable.dispose();
    expect(tf.memory().numTensors).toBe(before);
    db.close();
  });

  it('records a failed run with the reason when the validation split is empty', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    await db.samples.where('datasetId').equals(datasetId).modify({ split: 'train' });
    await expect(runTrainJob(db, spec(datasetId), { backend })).rejects.toThrow('has no samples in its val split');
    const [run] = await db.runs.toArray();
    expect(run).toMatchObject({ status: 'failed', failureReason: 'dataset "test sentences" has no samples in its val split' });
    db.close();
  });

  it('records a cancelled run', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const controller = new AbortController();
    const pending = runTrainJob(db, spec(datasetId), {
      backend,
      signal: controller.signal,
      onProgress: (e) => e.kind === 'epoch' && controller.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(TrainingCancelledError);
    const [run] = await db.runs.toArray();
    expect(run?.status).toBe('cancelled');
    db.close();
  });

  it('rejects a bad spec naming the field, before creating a run', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    await expect(runTrainJob(db, spec(datasetId, { batchSize: 0 }), { backend })).rejects.toThrow('batchSize must be a whole number ≥ 1, got 0');
    await expect(runTrainJob(db, spec('nope'), { backend })).rejects.toThrow('dataset nope does not exist');
    await expect(db.runs.count()).resolves.toBe(0);
    db.close();
  });
});
