import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { expect } from 'vitest';
import { mulberry32 } from '../../../src/lib/random';

/**
 * Starts tfjs's wasm backend in Node: the .wasm binaries are read from node_modules (a file-path prefix;
 * tfjs-backend-wasm reads it with fs in Node), so no test fetches anything.
 */
export async function startWasm(): Promise<BackendWasm> {
  const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  setWasmPaths(`${dirname(wasmFile)}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start in Node');
  await tf.ready();
  return tf.backend() as BackendWasm;
}

/** Uniform values in [-1, 1) with about `zeroShare` exact zeros (as after a ReLU), from a seed. */
export function randomValues(size: number, seed: number, zeroShare = 0.2): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: size }, () => (r() < zeroShare ? 0 : r() * 2 - 1));
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface KernelInput {
  values: Float32Array;
  shape: number[];
}

/**
 * Runs one kernel on a backend with the given inputs and returns its output values and shape; creates
 * and disposes everything it uses.
 */
export async function runKernelOn(
  backend: 'cpu' | 'wasm',
  kernelName: string,
  inputs: Record<string, KernelInput>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, { values, shape }] of Object.entries(inputs)) tensors[name] = tf.tensor(values, shape, 'float32');
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: out.dataSync() as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

/** Largest |a − b| / (1 + |b|) (absolute near zero, relative for large sums). */
export function maxScaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!));
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

/** Counts of live tensors and of data buffers on each backend, to catch leaks inside kernels. */
export function liveData(): { tensors: number; wasm: number; cpu: number } {
  const engine = tf.engine();
  return {
    tensors: tf.memory().numTensors,
    wasm: engine.findBackend('wasm')?.numDataIds() ?? 0,
    cpu: engine.findBackend('cpu')?.numDataIds() ?? 0,
  };
}
