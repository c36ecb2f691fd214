import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { mulberry32 } from '../../../src/lib/random';
import { liveData, maxScaledError, randomValues, sizeOf, startWasm } from './wasm';

beforeAll(async () => {
  await startWasm();
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<{ values: ArrayLike<number>; shape: number[]; dtype: string }> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const result = { values: Array.from(out.dataSync() as ArrayLike<number>), shape: out.shape, dtype: out.dtype };
  out.dispose();
  return result;
}

function randomShape(r: () => number, rank: number): number[] {
  return Array.from({ length: rank }, () => 1 + Math.floor(r() * 5));
}

describe('Tile on wasm matches the cpu backend', () => {
  const r = mulberry32(5);
  const cases = [
    { shape: [1, 1, 1, 16], reps: [4, 8, 8, 1], dtype: 'float32' as const },
    { shape: [1, 1, 1, 3], reps: [2, 5, 3, 1], dtype: 'float32' as const },
    { shape: [2, 3], reps: [3, 2], dtype: 'int32' as const },
    { shape: [3, 1, 2], reps: [1, 4, 2], dtype: 'bool' as const },
    { shape: [5], reps: [1], dtype: 'float32' as const },
    // Broadcasts (one wasm copy per call): Mean's gradient over a squeeze-excite pool, a bool, all axes kept.
    { shape: [16, 1, 1, 12], reps: [1, 4, 4, 1], dtype: 'float32' as const },
    { shape: [2, 1, 3, 1, 4], reps: [1, 3, 1, 2, 1], dtype: 'float32' as const },
    { shape: [3, 1, 5], reps: [1, 4, 1], dtype: 'bool' as const },
    { shape: [2, 3, 1, 4], reps: [1, 1, 5, 1], dtype: 'float32' as const },
    { shape: [2, 2, 2], reps: [1, 1, 1], dtype: 'int32' as const },
    ...Array.from({ length: 20 }, () => {
      const rank = 1 + Math.floor(r() * 5);
      return { shape: randomShape(r, rank), reps: randomShape(r, rank).map((d) => Math.min(d, 3)), dtype: 'float32' as const };
    }),
  ];

  it.each(cases)('$dtype $shape × $reps', async ({ shape, reps, dtype }) => {
    const values = randomValues(sizeOf(shape), sizeOf(shape) + reps.length, 0.3);
    // Built directly: tfjs-backend-wasm 4.22's cast to bool keeps the integer (−3 → 253), so no cast here.
    const make = () =>
      dtype === 'float32'
        ? tf.tensor(values, shape)
        : dtype === 'int32'
          ? tf.tensor(Int32Array.from(values, (v) => Math.round(v * 5)), shape, 'int32')
          : tf.tensor(Uint8Array.from(values, (v) => (v > 0 ? 1 : 0)), shape, 'bool');
    const expected = await runOn('cpu', () => tf.tile(make(), reps));
    const before = liveData();
    const actual = await runOn('wasm', () => tf.tile(make(), reps));
    expect(liveData()).toEqual(before);
    expect(actual.shape).toEqual(expected.shape);
    expect(actual.dtype).toBe(expected.dtype);
    expect(Array.from(actual.values)).toEqual(Array.from(expected.values));
  });
});

describe.each([true, false])('Sum and Mean on wasm match the cpu backend (SIMD kernels: %s)', (simd) => {
  beforeAll(() => {
    registerWasmTrainingKernels({ simd });
  });

  const r = mulberry32(9);
  const cases: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { shape: [4, 8, 8, 16], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 8, 8, 16], axis: [1, 2], keepDims: true },
    { shape: [4, 8, 8, 16], axis: [-3, -2], keepDims: false },
    { shape: [3, 5, 7], axis: [0], keepDims: false },
    { shape: [3, 5, 7], axis: [2], keepDims: false },
    { shape: [3, 5, 7], axis: [0, 2], keepDims: false },
    { shape: [6, 4], axis: [0, 1], keepDims: true },
    { shape: [2, 3, 5, 12], axis: [1, 2], keepDims: false },
    { shape: [3, 7, 21], axis: [0, 1], keepDims: true },
    // Channels in sixteens and fours, rows in more than one block of 32.
    { shape: [3, 50, 20], axis: [1], keepDims: false },
    { shape: [2, 9, 9, 72], axis: [0, 1, 2], keepDims: true },
  ];
  for (let i = 0; i < 12; i++) {
    const rank = 2 + Math.floor(r() * 3);
    const first = Math.floor(r() * rank);
    const last = first + Math.floor(r() * (rank - first));
    cases.push({ shape: randomShape(r, rank), axis: Array.from({ length: last - first + 1 }, (_, k) => first + k), keepDims: r() < 0.5 });
  }

  it.each(cases.flatMap((c) => [{ op: 'sum' as const, ...c }, { op: 'mean' as const, ...c }]))('$op over $axis of $shape, keepDims $keepDims', async ({ op, shape, axis, keepDims }) => {
    const values = randomValues(sizeOf(shape), sizeOf(shape) + axis.length, 0);
    const f = () => (op === 'sum' ? tf.sum(tf.tensor(values, shape), axis, keepDims) : tf.mean(tf.tensor(values, shape), axis, keepDims));
    const expected = await runOn('cpu', f);
    const before = liveData();
    const actual = await runOn('wasm', f);
    expect(liveData()).toEqual(before);
    expect(actual.shape).toEqual(expected.shape);
    expect(maxScaledError(actual.values, expected.values)).toBeLessThan(1e-5);
  });

  it('BatchNorm gradients (which tile and sum) still match', async () => {
    const x = randomValues(4 * 6 * 5 * 8, 77, 0);
    const grads = (backend: 'cpu' | 'wasm') =>
      runOn(backend, () => {
        const input = tf.tensor4d(x, [4, 6, 5, 8]);
        const [dx, dScale] = tf.grads((a: tf.Tensor, s: tf.Tensor) => {
          const { mean, variance } = tf.moments(a, [0, 1, 2]);
          return tf.batchNorm(a, mean, variance, tf.zeros([8]), s, 1e-3).square().sum();
        })([input, tf.fill([8], 1.5)]);
        return tf.concat([dx!.flatten(), dScale!]);
      });
    const expected = await grads('cpu');
    const actual = await grads('wasm');
    expect(maxScaledError(actual.values, expected.values)).toBeLessThan(1e-4);
  });
});
