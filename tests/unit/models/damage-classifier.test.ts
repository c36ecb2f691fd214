import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters } from '../../../models/backbones/params';
import { classifyDamage, createDamageClassifier, damageClassifierMetadata, DEFAULT_DAMAGE_LABELS } from '../../../models/damage-classifier';
import { registerFastCpuKernels } from '../../../src/lib/backends/kernels/register';

const images = (batch: number, seed: number) => tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFastCpuKernels(); // as the trainer worker gets it on cpu
});

describe('createDamageClassifier', () => {
  it('outputs a probability per default label (minor / moderate / major)', () => {
    const { model, metadata } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32 });
    const x = images(2, 1);
    try {
      expect(metadata.labels).toEqual([...DEFAULT_DAMAGE_LABELS]);
      const start = tf.memory().numTensors;
      const probabilities = model.predict(x) as tf.Tensor2D;
      expect(probabilities.shape).toEqual([2, 3]);
      const sums = tf.tidy(() => Array.from(probabilities.sum(1).dataSync()));
      sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
      probabilities.dispose();
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      model.dispose();
      x.dispose();
    }
  });

  it('accepts any label list of two or more, with one output per label', () => {
    const labels = ['none', 'scratch', 'dent', 'crack', 'total loss'];
    const { model, backbone } = createDamageClassifier({ backbone: 'resnet18', inputSize: 32, labels, projection: { units: 8, activation: 'gelu' } });
    try {
      expect(model.outputs[0]!.shape).toEqual([null, 5]);
      expect(countParameters(model).trainable - countParameters(backbone.model).trainable).toBe(512 * 8 + 8 + 8 * 5 + 5);
      expect(damageClassifierMetadata(model).labels).toEqual(labels);
    } finally {
      model.dispose();
    }
  });

  it('classifies a batch into labels with scores, freeing every tensor', async () => {
    const { model } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32, labels: ['ok', 'damaged'] });
    const x = images(3, 2);
    try {
      const start = tf.memory().numTensors;
      const predictions = await classifyDamage(model, x);
      expect(tf.memory().numTensors).toBe(start);
      expect(predictions).toHaveLength(3);
      for (const p of predictions) {
        expect(['ok', 'damaged']).toContain(p.label);
        expect(p.score).toBe(Math.max(p.probabilities.ok!, p.probabilities.damaged!));
        expect(p.probabilities.ok! + p.probabilities.damaged!).toBeCloseTo(1, 5);
      }
      const wrong = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
      await expect(classifyDamage(model, wrong)).rejects.toThrow(/images must be \[batch, 32, 32, 3\], got \[1, 64, 64, 3\]/);
      wrong.dispose();
    } finally {
      model.dispose();
      x.dispose();
    }
  });

  it('overfits a tiny batch: cross-entropy falls by ≥ 90 % (whole network trained)', async () => {
    const { model } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32, dropout: 0 });
    model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy' });
    const x = images(3, 3);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 3);
    try {
      const losses: number[] = [];
      for (let step = 0; step < 5; step++) losses.push((await model.trainOnBatch(x, y)) as number);
      expect(losses.at(-1)!).toBeLessThanOrEqual(0.1 * losses[0]!);
    } finally {
      model.dispose();
      tf.dispose([x, y]);
    }
  });
});
