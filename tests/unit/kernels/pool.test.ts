import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { maxPoolGrad } from '../../../src/lib/backends/wasm-kernels/pool';
import { simdKernels, type SimdKernels } from '../../../src/lib/backends/wasm-kernels/simd/module';
import { liveData, randomValues, sizeOf, startWasm } from './wasm';

let backend: BackendWasm;
let kernels: SimdKernels;

beforeAll(async () => {
  backend = await startWasm();
  kernels = simdKernels(backend)!;
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

type Pad = 'same' | 'valid' | number;

interface PoolCase {
  shape: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: Pad;
  dilations?: [number, number];
}

function poolInfo(c: PoolCase): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(c.shape, c.filterSize, c.strides, c.dilations ?? 1, c.pad);
}

/** A float32 buffer in the wasm heap holding `values` (freed by the caller). */
function inHeap(values: Float32Array): { t: tf.TensorInfo; at: number } {
  const t = backend.makeOutput([values.length], 'float32');
  const view = backend.typedArrayFromHeap(t) as Float32Array;
  view.set(values);
  return { t, at: view.byteOffset };
}

/** dx from simd/pool.wat's max_pool_grad, called directly on the backend's heap. */
function simdGrad(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const [xs, dys, dxs] = [inHeap(x), inHeap(dy), inHeap(new Float32Array(x.length))];
  kernels.max_pool_grad(
    xs.at, dys.at, dxs.at,
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  );
  const dx = (backend.typedArrayFromHeap(dxs.t) as Float32Array).slice();
  for (const { t } of [xs, dys, dxs]) backend.disposeData(t.dataId);
  return dx;
}

/** dx from pool.ts's TypeScript loop (the reference). */
function referenceGrad(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const dx = new Float32Array(x.length);
  maxPoolGrad(x, dy, info, dx);
  return dx;
}

const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

/**
 * Mostly negative values (as after a BatchNorm: many windows with no positive value) rounded to one
 * decimal (so windows hold equal maxima), with −∞ and NaN planted here and there, and the first two rows
 * of the first image all −∞ or NaN (so the windows of the first output row hold no maximum).
 */
function poolInput(shape: number[], seed: number): Float32Array {
  const x = randomValues(sizeOf(shape), seed, 0).map((v) => Math.round((v - 0.7) * 10) / 10);
  for (let i = 5; i < x.length; i += 37) x[i] = i % 2 ? Number.NaN : Number.NEGATIVE_INFINITY;
  const C = shape[3]!;
  for (let p = 0; p < 2 * shape[2]!; p++) x.fill(p % 3 ? Number.NEGATIVE_INFINITY : Number.NaN, p * C, (p + 1) * C);
  return x;
}

describe('max_pool_grad (simd/pool.wat) equals the TypeScript maxPoolGrad bit for bit', () => {
  const cases: PoolCase[] = [
    // ResNet's stem pool (3×3/2, pad 1), scaled down.
    { shape: [2, 9, 9, 8], filterSize: [3, 3], strides: [2, 2], pad: 1 },
    { shape: [2, 9, 9, 12], filterSize: [3, 3], strides: [2, 2], pad: 1 },
    { shape: [1, 10, 11, 20], filterSize: [3, 3], strides: [2, 2], pad: 1 },
    { shape: [2, 8, 8, 64], filterSize: [3, 3], strides: [2, 2], pad: 1 },
    { shape: [2, 7, 6, 4], filterSize: [3, 3], strides: [1, 1], pad: 'same' },
    { shape: [2, 8, 8, 16], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
    { shape: [1, 6, 10, 28], filterSize: [3, 2], strides: [1, 2], pad: 'valid' },
    { shape: [1, 9, 9, 8], filterSize: [3, 3], strides: [1, 1], pad: 'same', dilations: [2, 2] },
  ];

  it.each(cases)('pool $filterSize stride $strides pad $pad dilation $dilations on $shape', (c) => {
    const info = poolInfo(c);
    const x = poolInput(c.shape, sizeOf(c.shape));
    const dy = randomValues(sizeOf(info.outShape), 7, 0);
    const expected = referenceGrad(x, dy, info);
    expect(expected.some((v) => v !== 0)).toBe(true);
    expect(bits(simdGrad(x, dy, info))).toEqual(bits(expected));
  });

  it('sends each dy to the first maximum of its window, lane by lane (two vectors)', () => {
    // One 2×2 window, 8 channels: pixels in row-major order p0..p3.
    const n = Number.NaN;
    const inf = Number.NEGATIVE_INFINITY;
    const pixels = [
      [1, -2, n, inf, 0, -5, -1, n],
      [3, -2, 2, inf, 0, -4, -1, n],
      [3, -3, 1, inf, -0, -4, -1, 7],
      [2, -9, n, inf, 0, -4, -1, n],
    ];
    const x = Float32Array.from(pixels.flat());
    const dy = Float32Array.from([10, 20, 30, 40, 50, 60, 70, 80]);
    const info = poolInfo({ shape: [1, 2, 2, 8], filterSize: [2, 2], strides: [2, 2], pad: 'valid' });
    // Channel by channel: the first of equal maxima wins (1, 5, 6), NaN never does (2, 7), nothing for all −∞ (3).
    const winner = [1, 0, 1, -1, 0, 1, 0, 2];
    const expected = new Float32Array(32);
    winner.forEach((p, c) => {
      if (p >= 0) expected[p * 8 + c] = dy[c]!;
    });
    expect(Array.from(simdGrad(x, dy, info))).toEqual(Array.from(expected));
    expect(Array.from(referenceGrad(x, dy, info))).toEqual(Array.from(expected));
  });
});

describe('MaxPoolGrad on wasm', () => {
  async function gradOn(name: 'cpu' | 'wasm', c: PoolCase, x: Float32Array, w: Float32Array): Promise<Float32Array> {
    await tf.setBackend(name);
    return tf.tidy(() => {
      const weights = tf.tensor(w, poolInfo(c).outShape);
      const dx = tf.grad((input: tf.Tensor) => tf.maxPool(input as tf.Tensor4D, c.filterSize, c.strides, c.pad).mul(weights).sum())(tf.tensor4d(x, c.shape));
      return dx.dataSync() as Float32Array;
    });
  }

  const cases: PoolCase[] = [
    { shape: [2, 9, 9, 8], filterSize: [3, 3], strides: [2, 2], pad: 1 },
    { shape: [2, 9, 9, 12], filterSize: [3, 3], strides: [2, 2], pad: 1 },
    { shape: [2, 7, 6, 20], filterSize: [3, 3], strides: [1, 1], pad: 'same' },
    { shape: [2, 8, 8, 4], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
    { shape: [2, 9, 9, 6], filterSize: [3, 3], strides: [2, 2], pad: 1 }, // the TypeScript loop's case
  ];

  it.each(cases)('tf.grad of maxPool $filterSize stride $strides pad $pad on $shape matches the cpu backend', async (c) => {
    const x = poolInput(c.shape, sizeOf(c.shape) + 1);
    // Small integers as dy: their sums are exact, so the cpu kernel's double sums give the same bits.
    const w = randomValues(sizeOf(poolInfo(c).outShape), 11, 0).map((v) => Math.round(v * 8));
    const expected = await gradOn('cpu', c, x, w);
    const spy = vi.spyOn(kernels, 'max_pool_grad');
    const before = liveData();
    const actual = await gradOn('wasm', c, x, w);
    expect(liveData()).toEqual(before);
    expect(spy).toHaveBeenCalledTimes(c.shape[3] % 4 === 0 ? 1 : 0);
    spy.mockRestore();
    expect(bits(actual)).toEqual(bits(expected));
  });
});
