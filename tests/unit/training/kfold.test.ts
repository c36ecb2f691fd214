import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runKFold, type TrainJobSpec } from '../../../src/lib/training/job';
import { isKind, type ProgressEvent } from '../../../src/lib/progress';
import { assignFolds, summarizeFolds } from '../../../src/lib/training/kfold';
import { makeDb, seedSentimentDataset } from '../factories';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('assignFolds', () => {
  const samples = Array.from({ length: 60 }, (_, i) => ({ id: `s${i}`, label: ['a', 'b', 'c'][i % 3]! }));

  it('puts every sample in exactly one fold, evenly and stratified by label', () => {
    const folds = assignFolds(samples, 5, 1);
    expect(folds.size).toBe(60);
    for (let f = 0; f < 5; f++) {
      const members = samples.filter((s) => folds.get(s.id) === f);
      expect(members).toHaveLength(12);
      for (const label of ['a', 'b', 'c']) expect(members.filter((s) => s.label === label)).toHaveLength(4);
    }
  });

  it('is reproducible by seed and independent of input order', () => {
    const a = assignFolds(samples, 4, 9);
    expect(assignFolds([...samples].reverse(), 4, 9)).toEqual(a);
    expect(assignFolds(samples, 4, 10)).not.toEqual(a);
  });

  it('stratifies years by decade', () => {
    const years = Array.from({ length: 40 }, (_, i) => ({ id: `y${i}`, label: 1900 + i * 2 })); // 8 decades × 5
    const folds = assignFolds(years, 5, 3);
    for (let f = 0; f < 5; f++) {
      const decades = years.filter((y) => folds.get(y.id) === f).map((y) => Math.floor(y.label / 10));
      expect(new Set(decades).size).toBe(8);
    }
  });

  it('rejects k < 2 or more folds than samples', () => {
    expect(() => assignFolds(samples, 1, 1)).toThrow('k-fold needs k ≥ 2, got 1');
    expect(() => assignFolds(samples.slice(0, 3), 4, 1)).toThrow('needs at least 4 samples, got 3');
  });
});

describe('summarizeFolds', () => {
  it('gives mean and sample standard deviation per metric', () => {
    const s = summarizeFolds([{ acc: 0.8 }, { acc: 0.9 }, { acc: 1.0 }]);
    expect(s.acc!.mean).toBeCloseTo(0.9, 12);
    expect(s.acc!.std).toBeCloseTo(0.1, 12);
  });
});

describe('runKFold', () => {
  it('runs k child runs with disjoint validation folds under one parent with mean ± std', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const spec: TrainJobSpec = {
      task: 'text-classification',
      datasetId,
      model: { architecture: 'fasttext', dim: 8, buckets: 2048 },
      epochs: 3,
      batchSize: 16,
      optimizer: 'adam',
      learningRate: 0.05,
      seed: 5,
    };
    const events: ProgressEvent[] = [];
    const { runId, metrics, folds } = await runKFold(db, spec, 3, { backend: { backend: 'cpu', adapter: '' }, onProgress: (e) => events.push(e) });
    expect(folds).toHaveLength(3);
    expect(events.filter(isKind('fold'))).toEqual([0, 1, 2].map((index) => ({ kind: 'fold', index, k: 3 })));
    const runs = await db.runs.toArray();
    const parent = runs.find((r) => r.id === runId)!;
    expect(parent.params.kFolds).toBe(3);
    expect(parent.metrics).toEqual(metrics);
    const children = runs.filter((r) => r.parentId === parent.id);
    expect(children.map((c) => c.status)).toEqual(['completed', 'completed', 'completed']);
    expect(parent.status).toBe('completed');
    expect(parent.metrics?.val_accuracy_mean).toBeCloseTo(folds.reduce((a, r) => a + r.metrics.val_accuracy!, 0) / 3, 12);
    expect(parent.metrics?.val_accuracy_std).toBeGreaterThanOrEqual(0);
    // Validation folds are disjoint and together cover train + val (90 samples).
    const counts = children.map((c) => (c.analysis as { count: number }).count);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(90);
    db.close();
  });
});
