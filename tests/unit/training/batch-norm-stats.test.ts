import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoupeBatchNormalization } from '../../../models/backbones/batch-norm';
import { batchNormLayers, recomputeBatchNormStatistics } from '../../../src/lib/training/batch-norm-stats';
import { trainLoop } from '../../../src/lib/training/loop';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** conv → BatchNorm → relu → conv → BatchNorm → pool → dense: a 1×1 second map, as a 32 px MobileNetV3 ends. */
function bnNet(): tf.LayersModel {
  const x = tf.input({ shape: [4, 4, 2] });
  let h = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
  h = new LoupeBatchNormalization({ momentum: 0.9, epsilon: 1e-3, name: 'bn_a' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 4, kernelSize: 4, useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
  h = new LoupeBatchNormalization({ momentum: 0.9, epsilon: 1e-3, name: 'bn_b' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }).apply(h) as tf.SymbolicTensor });
}

const images = (n: number, seed: number) => tf.add(tf.randomNormal([n, 4, 4, 2], 0, 1, 'float32', seed), 3) as tf.Tensor4D;

async function* batchesOf(xs: tf.Tensor4D, sizes: number[]) {
  let start = 0;
  for (const size of sizes) {
    const part = tf.slice(xs, start, size);
    start += size;
    try {
      yield { xs: part, size };
    } finally {
      part.dispose();
    }
  }
}

/** Per-channel mean and unbiased variance of `t` over every axis but the last, in doubles. */
function channelStats(t: tf.Tensor): { mean: number[]; variance: number[] } {
  const values = Array.from(t.dataSync());
  const c = t.shape.at(-1)!;
  const n = values.length / c;
  const mean = Array.from({ length: c }, (_, k) => values.filter((_, i) => i % c === k).reduce((a, b) => a + b, 0) / n);
  const variance = mean.map((m, k) => values.filter((_, i) => i % c === k).reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
  return { mean, variance };
}

describe('recomputeBatchNormStatistics', () => {
  it('sets the first layer to the exact statistics of its inputs over all the images, weighting a short last batch by its size; weights unchanged', async () => {
    const model = bnNet();
    const xs = images(10, 4);
    const weights = model.trainableWeights.map((w) => w.read().dataSync().slice());
    const before = tf.memory().numTensors;
    const result = await recomputeBatchNormStatistics(model, batchesOf(xs, [4, 4, 2]));
    expect(tf.memory().numTensors).toBe(before);
    expect(result).toEqual({ layers: 2, examples: 10 });
    const [a] = batchNormLayers(model);
    // The first BatchNorm's input does not depend on any BatchNorm: its population statistics are exact.
    const convOut = tf.model({ inputs: model.inputs, outputs: model.layers[1]!.output as tf.SymbolicTensor }).predict(xs) as tf.Tensor;
    const population = channelStats(convOut);
    // Unbiased per batch: the average of n/(n−1)-scaled batch variances, close to the population's.
    const kept = { mean: Array.from(a!.movingMean.read().dataSync()), variance: Array.from(a!.movingVariance.read().dataSync()) };
    kept.mean.forEach((m, k) => expect(m).toBeCloseTo(population.mean[k]!, 4));
    kept.variance.forEach((v, k) => expect(Math.abs(v / population.variance[k]! - 1)).toBeLessThan(0.25));
    model.trainableWeights.forEach((w, i) => expect(Array.from(w.read().dataSync())).toEqual(Array.from(weights[i]!)));
    expect(batchNormLayers(model).map((l) => l.momentum)).toEqual([0.9, 0.9]);
    tf.dispose([xs, convOut]);
    model.dispose();
  });

  it('after training steps, makes inference match the trained network on its training images where the kept statistics did not', async () => {
    const model = bnNet();
    const xs = images(32, 5);
    const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 2), 'int32'), 2);
    const optimizer = tf.train.adam(0.05);
    await trainLoop({
      model,
      optimizer,
      loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) as tf.Scalar,
      batchesPerEpoch: 2,
      epochs: 3,
      validate: async () => ({}),
      train: async function* () {
        for (let s = 0; s < 32; s += 16) yield { xs: tf.slice(xs, s, 16), ys: tf.slice(ys, s, 16), size: 16 };
      },
    });
    optimizer.dispose();
    const [, b] = batchNormLayers(model);
    const keptMean = Array.from(b!.movingMean.read().dataSync());
    await recomputeBatchNormStatistics(model, batchesOf(xs, [16, 16]));
    // The second layer's input, computed as training computed it (batch statistics upstream), over all 32 images.
    const inner = tf.model({ inputs: model.inputs, outputs: b!.input as tf.SymbolicTensor });
    const population = tf.tidy(() => tf.concat([0, 16].map((s) => inner.apply(tf.slice(xs, s, 16), { training: true }) as tf.Tensor)));
    const { mean } = channelStats(population);
    const recomputed = Array.from(b!.movingMean.read().dataSync());
    recomputed.forEach((m, k) => expect(m).toBeCloseTo(mean[k]!, 4));
    // Three epochs at momentum 0.9 leave the kept mean mostly at its initial 0: far from the population's.
    expect(Math.max(...keptMean.map((m, k) => Math.abs(m - mean[k]!)))).toBeGreaterThan(0.1);
    tf.dispose([xs, ys, population]);
    model.dispose();
  });

  it('leaves a frozen layer (γ not trainable) as it was, and puts every statistic back when a batch fails', async () => {
    const model = bnNet();
    const [a, b] = batchNormLayers(model);
    (a!.gamma!.read() as tf.Variable).trainable = false;
    const xs = images(8, 6);
    await recomputeBatchNormStatistics(model, batchesOf(xs, [8]));
    expect(Array.from(a!.movingMean.read().dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(b!.movingMean.read().dataSync()).some((m) => m !== 0)).toBe(true);

    const before = Array.from(b!.movingMean.read().dataSync());
    const tensors = tf.memory().numTensors;
    async function* failing() {
      yield* batchesOf(xs, [4]);
      throw new Error('sample train#7: image could not be decoded');
    }
    await expect(recomputeBatchNormStatistics(model, failing())).rejects.toThrow('sample train#7');
    expect(Array.from(b!.movingMean.read().dataSync())).toEqual(before);
    expect(b!.momentum).toBe(0.9);
    expect(tf.memory().numTensors).toBe(tensors);
    await expect(recomputeBatchNormStatistics(model, batchesOf(xs, []))).rejects.toThrow('at least one training batch');
    tf.dispose(xs);
    model.dispose();
  });
});
