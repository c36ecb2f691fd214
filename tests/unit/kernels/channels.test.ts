import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelBroadcast } from '../../../src/lib/backends/wasm-kernels/channels';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { liveData, randomValues, sizeOf, startWasm } from './wasm';

beforeAll(async () => {
  await startWasm();
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('channelBroadcast', () => {
  it('recognises one channel vector for all pixels, or one per image', () => {
    expect(channelBroadcast([2, 3, 4, 8], [8])).toEqual({ outer: 1, pixels: 24, channels: 8, stride: 0 });
    expect(channelBroadcast([2, 3, 4, 8], [1, 1, 1, 8])).toEqual({ outer: 1, pixels: 24, channels: 8, stride: 0 });
    expect(channelBroadcast([2, 3, 4, 8], [2, 1, 1, 8])).toEqual({ outer: 2, pixels: 12, channels: 8, stride: 8 });
    expect(channelBroadcast([5, 12], [12])).toEqual({ outer: 1, pixels: 5, channels: 12, stride: 0 });
  });

  it('declines everything else', () => {
    expect(channelBroadcast([2, 3, 4, 6], [6])).toBeNull(); // channels not a multiple of 4
    expect(channelBroadcast([2, 3, 4, 8], [2, 3, 4, 8])).toBeNull(); // same shape: the builtin is fast
    expect(channelBroadcast([2, 3, 4, 8], [1, 3, 1, 8])).toBeNull();
    expect(channelBroadcast([2, 3, 4, 8], [])).toBeNull(); // a scalar
    expect(channelBroadcast([2, 3, 4, 8], [2, 1, 1, 1])).toBeNull();
    expect(channelBroadcast([1, 8], [8])).toBeNull(); // the vector is the whole tensor
    expect(channelBroadcast([8], [8])).toBeNull();
  });
});

async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  out.dispose();
  return result;
}

/** Random values with a NaN, ±∞ and −0 planted (IEEE semantics must survive the SIMD path). */
function valuesWithSpecials(shape: number[], seed: number): Float32Array {
  const values = randomValues(sizeOf(shape), seed, 0.1);
  if (values.length > 8) values.set([Number.NaN, Infinity, -Infinity, -0], 3);
  return values;
}

describe('Multiply and Sub by a channel vector on wasm match the cpu backend exactly', () => {
  const cases: { op: 'mul' | 'sub'; a: number[]; b: number[] }[] = [
    { op: 'mul', a: [2, 3, 4, 8], b: [8] },
    { op: 'mul', a: [8], b: [2, 3, 4, 8] },
    { op: 'mul', a: [1, 1, 1, 20], b: [3, 5, 5, 20] },
    { op: 'mul', a: [3, 5, 5, 20], b: [3, 1, 1, 20] },
    { op: 'sub', a: [2, 6, 7, 12], b: [1, 1, 1, 12] },
    { op: 'sub', a: [2, 6, 7, 12], b: [12] },
    { op: 'sub', a: [4, 2, 2, 16], b: [4, 1, 1, 16] },
    // Declined by ours, served by the builtin kernel: must still be right.
    { op: 'sub', a: [12], b: [2, 6, 7, 12] },
    { op: 'mul', a: [2, 3, 4, 6], b: [6] },
    { op: 'mul', a: [2, 3, 4, 8], b: [2, 3, 4, 8] },
  ];

  it.each(cases)('$op $a by $b', async ({ op, a, b }) => {
    const av = valuesWithSpecials(a, sizeOf(a));
    const bv = valuesWithSpecials(b, sizeOf(b) + 1);
    const f = () => (op === 'mul' ? tf.mul(tf.tensor(av, a), tf.tensor(bv, b)) : tf.sub(tf.tensor(av, a), tf.tensor(bv, b)));
    const expected = await runOn('cpu', f);
    const before = liveData();
    const actual = await runOn('wasm', f);
    expect(liveData()).toEqual(before);
    expect(actual.shape).toEqual(expected.shape);
    expect(Array.from(actual.values)).toEqual(Array.from(expected.values));
  });

  it('leaves int32 tensors to the builtin kernel', async () => {
    await tf.setBackend('wasm');
    const product = tf.tidy(() => tf.mul(tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'int32'), tf.tensor([2, 3, 4, 5], [4], 'int32')));
    expect(product.dtype).toBe('int32');
    expect(Array.from(await product.data())).toEqual([2, 6, 12, 20, 10, 18, 28, 40]);
    product.dispose();
  });
});
