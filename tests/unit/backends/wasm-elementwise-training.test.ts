import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFastCpuKernels } from '../../../src/lib/backends/kernels/register';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, type WasmTrainingKernelOptions } from '../../../src/lib/backends/wasm-kernels/index';
import { liveData, maxScaledError, randomValues, startWasm } from '../kernels/wasm';

// A MobileNetV3-like block trained a few SGD steps on cpu and on wasm, with and without the kernels that
// replace wasm builtins: torch-style explicit padding (PadV2, and Slice in its gradient), BatchNorm on a
// 278,784-element activation (our FusedBatchNorm), hard-swish and ReLU6 (LessEqual in the gradient),
// squeeze-excite (broadcast multiply), a stride-1 depthwise convolution (its input gradient on XNNPACK),
// and the engine's clones and casts (Identity, Cast).

const BATCH = 4;
const SIZE = 64;
const STEPS = 3;

interface Weights {
  stem: tf.Variable;
  gamma: tf.Variable;
  beta: tf.Variable;
  gamma2: tf.Variable;
  beta2: tf.Variable;
  depthwise: tf.Variable;
  depthwise2: tf.Variable;
  se1: tf.Variable;
  se2: tf.Variable;
  project: tf.Variable;
  dense: tf.Variable;
}

const SHAPES: Record<keyof Weights, number[]> = {
  stem: [1, 1, 3, 16],
  gamma: [16],
  beta: [16],
  gamma2: [16],
  beta2: [16],
  depthwise: [3, 3, 16, 1],
  depthwise2: [5, 5, 16, 1],
  se1: [16, 8],
  se2: [8, 16],
  project: [1, 1, 16, 8],
  dense: [8, 1],
};

const hardSigmoid = (x: tf.Tensor) => tf.div(tf.relu6(tf.add(x, 3)), 6);
const hardSwish = (x: tf.Tensor) => tf.mul(x, hardSigmoid(x));
const pad1 = (x: tf.Tensor4D) => tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);

function batchNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
}

function forward(w: Weights, x: tf.Tensor4D): tf.Tensor {
  let h = tf.conv2d(pad1(x), w.stem as tf.Tensor4D, 1, 'valid'); // [4,66,66,16]: 278,784 values
  h = hardSwish(batchNorm(h, w.gamma, w.beta)) as tf.Tensor4D;
  h = tf.depthwiseConv2d(pad1(h), w.depthwise as tf.Tensor4D, 2, 'valid'); // [4,33,33,16]
  h = tf.relu6(batchNorm(h, w.gamma2, w.beta2)) as tf.Tensor4D;
  const squeezed = tf.mean(h, [1, 2]);
  const gate = hardSigmoid(tf.matMul(tf.relu(tf.matMul(squeezed, w.se1)), w.se2)).reshape([BATCH, 1, 1, 16]);
  h = tf.mul(h, gate);
  h = hardSwish(tf.depthwiseConv2d(h, w.depthwise2 as tf.Tensor4D, 1, 'same')) as tf.Tensor4D; // stride 1: input gradient on XNNPACK
  h = tf.conv2d(h, w.project as tf.Tensor4D, 1, 'valid');
  return tf.matMul(tf.mean(h, [1, 2]), w.dense);
}

const images = randomValues(BATCH * SIZE * SIZE * 3, 41, 0);
const targets = randomValues(BATCH, 42, 0);
const initial = Object.fromEntries(
  Object.entries(SHAPES).map(([name, shape], i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = name.startsWith('gamma') ? new Float32Array(size).fill(1) : name.startsWith('beta') ? new Float32Array(size) : randomValues(size, 100 + i, 0).map((v) => v * 0.6);
    return [name, values];
  }),
) as Record<keyof Weights, Float32Array>;

async function train(backend: 'cpu' | 'wasm'): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const w = Object.fromEntries(Object.entries(SHAPES).map(([name, shape]) => [name, tf.tidy(() => tf.variable(tf.tensor(initial[name as keyof Weights], shape)))])) as unknown as Weights;
  const x = tf.tensor4d(images, [BATCH, SIZE, SIZE, 3]);
  const y = tf.tensor2d(targets, [BATCH, 1]);
  const optimizer = tf.train.sgd(0.1);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = optimizer.minimize(() => tf.losses.meanSquaredError(y, forward(w, x)) as tf.Scalar, true)!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  const weights = Object.values(w).map((v: tf.Variable) => v.dataSync() as Float32Array);
  tf.dispose([x, y, ...Object.values(w)]);
  optimizer.dispose();
  return { losses, weights };
}

beforeAll(async () => {
  await startWasm();
  registerFastCpuKernels(); // as the app does on cpu: the stock cpu conv filter gradient takes seconds here
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('a MobileNetV3-like block trains on wasm with the elementwise kernels as on cpu', () => {
  let cpu: { losses: number[]; weights: Float32Array[] };

  beforeAll(async () => {
    cpu = await train('cpu');
  }, 60_000);

  it('learns on cpu (or matching it would prove little)', () => {
    expect(cpu.losses[STEPS - 1]!).toBeLessThan(cpu.losses[0]! * 0.9);
  });

  it.each<[string, WasmTrainingKernelOptions]>([
    ['builtin Identity, Cast, comparisons, FusedBatchNorm, Slice, PadV2', { replaceSlowKernels: ['Conv2DBackpropInput', 'Tile', 'Sum', 'Mean'] }],
    ['TypeScript GEMM and depthwise gradients', { gemm: 'js' }],
    ['every kernel (default)', {}],
  ])('%s: same losses and weights within 1e-4, nothing leaked', async (_, options) => {
    registerWasmTrainingKernels(options);
    await tf.setBackend('wasm');
    const before = liveData();
    const wasm = await train('wasm');
    expect(liveData()).toEqual(before);
    for (let step = 0; step < STEPS; step++) expect(Math.abs(wasm.losses[step]! - cpu.losses[step]!) / cpu.losses[step]!).toBeLessThan(1e-4);
    for (let i = 0; i < cpu.weights.length; i++) expect(maxScaledError(wasm.weights[i]!, cpu.weights[i]!)).toBeLessThan(1e-4);
  });
});
