import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '$lib/backends/tfjs';
import type { SampleRow } from '$lib/db/types';
import { encoderHeadClassifier } from '$lib/tasks/text-classification/encoder';
import { fastTextClassifier } from '$lib/tasks/text-classification/fasttext';
import { TEXT_CLASSIFICATION } from '$lib/tasks/text-classification';
import { DEFAULT_FASTTEXT } from '$models/text/fasttext';
import { toBatch, type TrainableModel } from '$lib/tasks/types';
import { makeDb } from '../factories';
import { encoderRef, labelledSentences } from './fixture';

const LABELS = ['negative', 'neutral', 'positive'];
const rows = (items: { text: string; label: string }[], split: 'train' | 'val'): SampleRow[] =>
  items.map((item, i) => ({ id: `${split}-${i}`, datasetId: 'd', split, label: item.label, hash: `${split}-${i}`, path: `${split} row ${i}`, text: item.text }));

/** Full-batch Adam on the trainable's own loss, then accuracy on held-out rows. */
async function fitAndScore(trainable: TrainableModel, train: SampleRow[], test: SampleRow[], steps: number, learningRate: number) {
  const { xs, ys } = await toBatch(trainable, train, { training: true });
  const optimizer = tf.train.adam(learningRate);
  try {
    for (let step = 0; step < steps; step++) {
      optimizer.minimize(() => trainable.loss(ys, trainable.model.apply(xs, { training: true }) as tf.Tensor), true)?.dispose();
    }
  } finally {
    optimizer.dispose();
    tf.dispose([xs, ys]);
  }
  const inputs = await trainable.toInputs(test, { training: false });
  const output = trainable.model.predict(inputs) as tf.Tensor;
  const predictions = await trainable.decode(output);
  tf.dispose([inputs, output]);
  return trainable.metrics(test, predictions);
}

// 3 classes: chance is 1/3. Held-out sentences use other template/word combinations than training.
const train = rows(labelledSentences(24), 'train');
const test = rows(labelledSentences(12, 24), 'val');

describe('models learn a small labelled set', () => {
  beforeAll(() => useBackend('cpu')); // the cpu backend with the fast embedding-bag gradient

  it('a linear head over frozen tiny-RoBERTa embeddings', async () => {
    const trainable = encoderHeadClassifier({ encoder: encoderRef(false), dim: 64, head: 'linear', labels: LABELS, seed: 7 }, TEXT_CLASSIFICATION, undefined, { db: makeDb() });
    try {
      const before = tf.memory().numTensors;
      const metrics = await fitAndScore(trainable, train, test, 150, 0.05);
      expect(metrics.accuracy).toBeGreaterThan(0.75);
      expect(metrics.macroF1).toBeGreaterThan(0.7);
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    } finally {
      trainable.dispose();
    }
  });

  it('an MLP head over the same embeddings', async () => {
    const trainable = encoderHeadClassifier({ encoder: encoderRef(true), dim: 64, head: 'mlp', hidden: 32, labels: LABELS, seed: 7 }, TEXT_CLASSIFICATION, undefined, { db: makeDb() });
    try {
      const metrics = await fitAndScore(trainable, train, test, 150, 0.01);
      expect(metrics.accuracy).toBeGreaterThan(0.75);
    } finally {
      trainable.dispose();
    }
  });

  it('the fastText baseline trained from scratch', async () => {
    const trainable = fastTextClassifier({ ...DEFAULT_FASTTEXT, dim: 8, buckets: 512, labels: LABELS, seed: 7 }, TEXT_CLASSIFICATION);
    try {
      const metrics = await fitAndScore(trainable, train, test, 25, 0.1);
      expect(metrics.accuracy).toBeGreaterThan(0.75);
    } finally {
      trainable.dispose();
    }
  });
});
