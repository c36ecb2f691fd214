// A bare page for tests/e2e/webgpu-kernels.e2e.ts: a small network of Loupe's layers (BatchNorm, hard-swish,
// hard-sigmoid) trained by Loupe's Adam for a few steps on a backend, with the WebGPU calls counted.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { HardSigmoid, HardSwish } from '../../../models/backbones/activations';
import { LoupeBatchNormalization } from '../../../models/backbones/batch-norm';
import { registerWebGpuTrainingKernels, unregisterWebGpuTrainingKernels } from '../../../src/lib/backends/webgpu-kernels/index';
import { adam } from '../../../src/lib/training/adam';

export interface TrainResult {
  backend: string;
  losses: number[];
  /** Every weight after the last step (trainable, BatchNorm's moving statistics, Adam's slots excluded). */
  weights: number[][];
  /** tf.memory().numTensors after each step. */
  tensors: number[];
  /** WebGPU compute dispatches over the steps. */
  dispatches: number;
}

let dispatches = 0;
const pass = (globalThis as unknown as { GPUComputePassEncoder?: { prototype: { dispatchWorkgroups: (...a: unknown[]) => void } } }).GPUComputePassEncoder;
if (pass) {
  const original = pass.prototype.dispatchWorkgroups;
  pass.prototype.dispatchWorkgroups = function (...args: unknown[]) {
    dispatches++;
    return original.apply(this, args);
  };
}

function network(): tf.LayersModel {
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
  const input = tf.input({ shape: [6, 6, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: seeded(1) }).apply(input) as tf.SymbolicTensor;
  x = new LoupeBatchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
  x = new HardSwish({}).apply(x) as tf.SymbolicTensor;
  const gate = new HardSigmoid({}).apply(tf.layers.conv2d({ filters: 8, kernelSize: 1, kernelInitializer: seeded(2) }).apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;
  x = tf.layers.multiply().apply([x, gate]) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 1, kernelInitializer: seeded(3) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** `steps` Adam steps (Huber loss) of the network above on `backend`, Loupe's webgpu kernels on or off. */
async function train(backend: string, steps: number, fused = true): Promise<TrainResult> {
  if (fused) registerWebGpuTrainingKernels();
  else unregisterWebGpuTrainingKernels();
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const model = network();
  const optimizer = adam(0.01);
  const xs = tf.tensor4d(Array.from({ length: 4 * 6 * 6 * 3 }, (_, i) => Math.sin(i * 0.37) * 2), [4, 6, 6, 3]);
  const ys = tf.tensor2d([[0.5], [-1], [2], [0]]);
  const losses: number[] = [];
  const tensors: number[] = [];
  const before = dispatches;
  for (let step = 0; step < steps; step++) {
    const loss = optimizer.minimize(() => tf.losses.huberLoss(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    losses.push((await loss.data())[0]!);
    loss.dispose();
    tensors.push(tf.memory().numTensors);
  }
  const weights = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
  const result = { backend: tf.getBackend(), losses, weights, tensors, dispatches: dispatches - before };
  tf.dispose([xs, ys]);
  optimizer.dispose();
  model.dispose();
  registerWebGpuTrainingKernels();
  return result;
}

Object.assign(window, { loupeWebGpu: { train } });
