import { setFlagsFromString } from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  type WasmTrainingKernelOptions,
} from '../../../src/lib/backends/wasm-kernels/index';
import { randomValues, startWasm } from './wasm';

const BATCH = 4;
const SIZE = 16;
const STEPS = 4;

/**
 * conv2d (stride 2) → BN → relu6 → 3×3 conv (stride 1: Winograd's shape on Loupe's path) → depthwise ×2 → BN →
 * relu → avg pool → 1×1 conv → BN → max pool → GAP → dense.
 */
function tinyCnn(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu6' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 5 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false, depthwiseInitializer: tf.initializers.heNormal({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.averagePooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 12, kernelSize: 1, useBias: true, kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

const images = randomValues(BATCH * SIZE * SIZE * 3, 11, 0);
const targets = randomValues(BATCH, 12, 0);

/** Weights built once on cpu, so every backend starts from exactly the same values. */
let initialWeights: { values: Float32Array; shape: number[] }[] = [];

/** Trains a fresh copy of the tiny CNN for STEPS SGD steps on one fixed batch; returns each step's loss. */
async function train(backend: 'cpu' | 'wasm'): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const model = tinyCnn();
  const start = initialWeights.map((w) => tf.tensor(w.values, w.shape));
  model.setWeights(start); // copies into the model's variables
  tf.dispose(start);
  const optimizer = tf.train.sgd(0.05);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const x = tf.tensor4d(images, [BATCH, SIZE, SIZE, 3]);
  const y = tf.tensor2d(targets, [BATCH, 1]);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) losses.push((await model.trainOnBatch(x, y)) as number);
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { losses, weights };
}

beforeAll(async () => {
  setFlagsFromString('--experimental-wasm-relaxed-simd'); // as the `loupe` command does (src/cli/relaxed-simd.ts)
  await startWasm();
  await tf.setBackend('cpu');
  const model = tinyCnn();
  initialWeights = model.getWeights().map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape }));
  model.dispose();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

describe('a tiny CNN trains on wasm as on cpu', () => {
  it('fails on the stock wasm backend (missing gradient kernels)', async () => {
    unregisterWasmTrainingKernels();
    await expect(train('wasm')).rejects.toThrow(/not registered for backend 'wasm'/);
    // The failed step leaves tensors behind inside tfjs; later cases measure leaks from their own start.
  });

  it.each<[string, WasmTrainingKernelOptions]>([
    ['fast kernels, XNNPACK GEMM', {}],
    ["fast kernels, Loupe's GEMM for every convolution, relaxed SIMD FMA", { convolutions: 'loupe', relaxedSimd: true }],
    ["fast kernels, Loupe's GEMM for every convolution, im2col instead of Winograd", { convolutions: 'loupe', winograd: false }],
    ['fast kernels, TypeScript GEMM', { gemm: 'js' }],
    ['cpu-routed fallback', { mode: 'cpu-routed' }],
  ])('%s: same losses and weights within 1e-4', async (_, options) => {
    registerWasmTrainingKernels(options);
    const cpu = await train('cpu');
    const tensorsBefore = tf.memory().numTensors;
    const wasm = await train('wasm');
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    // The run must actually learn, or matching losses would prove little.
    expect(cpu.losses[STEPS - 1]!).toBeLessThan(cpu.losses[0]! * 0.9);
    for (let step = 0; step < STEPS; step++) expect(relativeError(wasm.losses[step]!, cpu.losses[step]!)).toBeLessThan(1e-4);
    for (let i = 0; i < cpu.weights.length; i++) {
      const a = wasm.weights[i]!;
      const b = cpu.weights[i]!;
      let worst = 0;
      for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!) / (1 + Math.abs(b[j]!)));
      expect(worst).toBeLessThan(1e-4);
    }
  });
});
