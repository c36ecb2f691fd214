import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HardSwish, LoupeReLU, type BatchNormActivation } from '../../../models/backbones/activations';
import { BATCH_NORM_ACTIVATION_TRAINING_KERNEL, BATCH_NORM_TRAINING_KERNEL, LoupeBatchNormalization } from '../../../models/backbones/batch-norm';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { liveData, maxScaledError, randomValues, sizeOf, startWasm } from './wasm';

beforeAll(async () => {
  await startWasm();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

interface Step {
  y: Float32Array;
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/**
 * A fresh layer's output in training mode, the gradients of Σ y · w (w fixed per element) and its moving
 * statistics; with `activation`, the BatchNorm's own (`fused`) or a layer of its own after it.
 */
async function trainingStep(shape: number[], seed: number, activation?: { kind: BatchNormActivation; fused: boolean }): Promise<Step> {
  const layer = new LoupeBatchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.9, ...(activation?.fused ? { activation: activation.kind } : {}) });
  const after = activation && !activation.fused ? (activation.kind === 'relu' ? new LoupeReLU({}) : new HardSwish({})) : undefined;
  const apply = (input: tf.Tensor) => {
    const y = layer.apply(input, { training: true }) as tf.Tensor;
    return after ? (after.apply(y) as tf.Tensor) : y;
  };
  const channels = shape[shape.length - 1]!;
  layer.build(shape);
  const weights = [randomValues(channels, seed + 2, 0), randomValues(channels, seed + 3, 0), new Float32Array(channels), new Float32Array(channels).fill(1)];
  const initial = weights.map((v) => tf.tensor1d(v));
  layer.setWeights(initial);
  tf.dispose(initial);
  const x = tf.tensor(randomValues(sizeOf(shape), seed, 0).map((v) => 3 * v + 1.5), shape);
  const w = tf.tensor(randomValues(sizeOf(shape), seed + 1, 0), shape);
  const loss = (input: tf.Tensor) => tf.sum(tf.mul(apply(input), w)) as tf.Scalar;
  // Three applications in training mode (y, dx, dγ/dβ), each moving the averages once, on either path.
  const y = apply(x);
  const dx = tf.grad(loss)(x);
  const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => loss(x), [gamma!, beta!]);
  const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
  const [, , movingMean, movingVariance] = layer.weights.map((v) => v.read());
  const step = {
    y: await read(y),
    dx: await read(dx),
    dGamma: await read(grads[gamma!.name]!),
    dBeta: await read(grads[beta!.name]!),
    movingMean: await read(movingMean!),
    movingVariance: await read(movingVariance!),
  };
  tf.dispose([x, w, y, dx, value, ...Object.values(grads)]);
  for (const weight of layer.weights) weight.dispose();
  return step;
}

describe('BatchNorm training on wasm as one kernel each way', () => {
  // Channels a multiple of 4 run on the SIMD passes, others on the TypeScript ones; more than 32 pixels
  // per channel crosses the SIMD reductions' blocks.
  it.each([
    [[2, 5, 6, 8]],
    [[4, 7, 9, 12]],
    [[2, 3, 3, 40]],
    [[3, 4, 4, 6]],
    [[5, 3]],
  ])('matches the composed tfjs ops for x %j: y, dx, dγ, dβ and the moving statistics', async (shape) => {
    registerWasmTrainingKernels({ simd: false }); // tfjs's composed ops
    const composed = await trainingStep(shape, sizeOf(shape));
    registerWasmTrainingKernels();
    const before = liveData();
    const fused = await trainingStep(shape, sizeOf(shape));
    expect(liveData()).toEqual(before);
    for (const key of Object.keys(fused) as (keyof Step)[]) {
      expect(maxScaledError(fused[key], composed[key]), key).toBeLessThan(1e-5);
    }
  });

  // Channels a multiple of 4 on the SIMD passes, others on the TypeScript ones; values around zero, where
  // both activations bend; 40 channels at 12×12 are more rows than a helper thread's smallest part.
  it.each([
    ['hardswish', [4, 7, 9, 12]],
    ['relu', [4, 7, 9, 12]],
    ['hardswish', [2, 5, 5, 6]],
    ['relu', [3, 4, 4, 6]],
    ['hardswish', [8, 12, 12, 40]],
  ] as const)('with %s inside gives the bits of a BatchNorm and then the activation layer, x %j', async (kind, shape) => {
    registerWasmTrainingKernels();
    const apart = await trainingStep([...shape], sizeOf(shape), { kind, fused: false });
    const before = liveData();
    const fused = await trainingStep([...shape], sizeOf(shape), { kind, fused: true });
    expect(liveData()).toEqual(before);
    for (const key of Object.keys(fused) as (keyof Step)[]) expect(fused[key], key).toEqual(apart[key]);
    // …and the activation is there: ReLU clips at 0; hard-swish bends negatives into [−0.375, 0).
    const [least, zeros] = [Math.min(...fused.y), fused.y.filter((v) => v === 0).length];
    if (kind === 'relu') expect({ least, clipped: zeros > 0 }).toEqual({ least: 0, clipped: true });
    else expect(least >= -0.375 && least < 0).toBe(true);
  });

  it.each([[[4, 8, 8, 12]], [[2, 9, 9, 6]]])('keeps the batch variance of values far from zero (mean 10⁵·σ), x %j', async (shape) => {
    registerWasmTrainingKernels();
    const channels = shape[shape.length - 1]!;
    const values = randomValues(sizeOf(shape), 7, 0).map((v, i) => 1000 + (i % channels) + 0.01 * v);
    const x = tf.tensor(values, shape);
    const [gamma, movingVariance] = [tf.ones([channels]), tf.ones([channels])];
    const [beta, movingMean] = [tf.zeros([channels]), tf.zeros([channels])];
    const outputs = tf.engine().runKernel(BATCH_NORM_TRAINING_KERNEL, { x, gamma, beta, movingMean, movingVariance }, { epsilon: 1e-3, momentum: 0.99 }) as tf.Tensor[];
    const [mean, variance] = [await outputs[1]!.data(), await outputs[2]!.data()];
    // The exact moments of the same float32 values, in doubles.
    const pixels = values.length / channels;
    for (let c = 0; c < channels; c++) {
      let [sum, squares] = [0, 0];
      for (let p = 0; p < pixels; p++) sum += values[p * channels + c]!;
      const exactMean = sum / pixels;
      for (let p = 0; p < pixels; p++) squares += (values[p * channels + c]! - exactMean) ** 2;
      expect(Math.abs(mean[c]! - exactMean)).toBeLessThanOrEqual(Math.abs(exactMean) * 2 ** -23);
      expect(Math.abs(variance[c]! - squares / pixels) / (squares / pixels), `channel ${c}`).toBeLessThan(1e-5);
    }
    tf.dispose([x, gamma, beta, movingMean, movingVariance, ...outputs]);
  });

  it('runs the fused kernels in training and the base class in inference', async () => {
    registerWasmTrainingKernels();
    const layer = new LoupeBatchNormalization({ axis: -1 });
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 3);
    const training = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(x));
    const names = training.kernels.map((k) => k.name);
    expect(names).toContain(BATCH_NORM_TRAINING_KERNEL);
    expect(names).toContain(`${BATCH_NORM_TRAINING_KERNEL}Grad`);
    expect(names).not.toContain('Mean');
    const inference = await tf.profile(() => layer.apply(x) as tf.Tensor);
    expect(inference.kernels.map((k) => k.name)).not.toContain(BATCH_NORM_TRAINING_KERNEL);
    tf.dispose([x, training.result as tf.Tensor, inference.result as tf.Tensor]);
    for (const weight of layer.weights) weight.dispose();
  });

  it('with an activation, trains as one kernel each way and runs BatchNorm then the activation in inference', async () => {
    registerWasmTrainingKernels();
    const layer = new LoupeBatchNormalization({ axis: -1, activation: 'hardswish' });
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 3);
    const training = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(x));
    expect(training.kernels.map((k) => k.name).filter((name) => name.startsWith('Loupe'))).toEqual([
      BATCH_NORM_ACTIVATION_TRAINING_KERNEL,
      `${BATCH_NORM_ACTIVATION_TRAINING_KERNEL}Grad`,
    ]);
    const inference = layer.apply(x) as tf.Tensor;
    const [gamma, beta, mean, variance] = layer.getWeights();
    const normalized = tf.batchNorm(x, mean!, variance!, beta!, gamma!, 1e-3);
    const expected = tf.mul(normalized, tf.div(tf.relu6(tf.add(normalized, 3)), 6));
    expect(maxScaledError(await inference.data(), await expected.data())).toBeLessThan(1e-6);
    tf.dispose([x, training.result as tf.Tensor, inference, normalized, expected]);
    for (const weight of layer.weights) weight.dispose();
  });

  it('refuses an activation it cannot fuse, naming it', () => {
    expect(() => new LoupeBatchNormalization({ activation: 'gelu' as BatchNormActivation })).toThrow(/'relu' or 'hardswish', got "gelu"/);
  });

  it("saves as tfjs's BatchNormalization, its activation in the config, and loads back into this class", () => {
    const input = tf.input({ shape: [4, 4, 8] });
    const model = tf.model({ inputs: input, outputs: new LoupeBatchNormalization({ name: 'bn', activation: 'relu' }).apply(input) as tf.SymbolicTensor });
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"BatchNormalization"');
    const loaded = tf.models.modelFromJSON(JSON.parse(json) as Parameters<typeof tf.models.modelFromJSON>[0]);
    return loaded.then((m) => {
      expect(m.getLayer('bn')).toBeInstanceOf(LoupeBatchNormalization);
      expect((m.getLayer('bn') as LoupeBatchNormalization).activation).toBe('relu');
      m.dispose();
      model.dispose();
    });
  });
});
