import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARISON_KERNELS } from '../../../src/lib/backends/wasm-kernels/compare';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { mulberry32 } from '../../../src/lib/random';
import { liveData, maxScaledError, randomValues, sizeOf, startWasm } from '../kernels/wasm';

// Identity, Cast, the comparisons, FusedBatchNorm, Slice and PadV2 of src/lib/backends/wasm-kernels against
// tfjs's cpu backend, on the cases each kernel serves itself and on those it hands to the wasm builtin.

beforeAll(async () => {
  await startWasm();
  expect(registerWasmTrainingKernels()).toEqual(expect.arrayContaining(['Identity', 'Cast', 'FusedBatchNorm', 'Slice', 'PadV2', ...COMPARISON_KERNELS]));
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

interface Result {
  values: unknown[];
  shape: number[];
  dtype: string;
}

async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Result> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const result = { values: Array.from(out.dataSync() as ArrayLike<unknown>), shape: out.shape, dtype: out.dtype };
  out.dispose();
  return result;
}

/** Runs `f` on cpu, then on wasm checking that nothing is left behind there; returns both results. */
async function both(f: () => tf.Tensor): Promise<{ cpu: Result; wasm: Result }> {
  const cpu = await runOn('cpu', f);
  await tf.setBackend('wasm');
  const before = liveData();
  const wasm = await runOn('wasm', f);
  expect(liveData()).toEqual(before);
  expect(wasm.shape).toEqual(cpu.shape);
  expect(wasm.dtype).toBe(cpu.dtype);
  return { cpu, wasm };
}

function randomShape(r: () => number, rank: number, max = 5): number[] {
  return Array.from({ length: rank }, () => 1 + Math.floor(r() * max));
}

function make(values: Float32Array, shape: number[], dtype: 'float32' | 'int32' | 'bool'): tf.Tensor {
  if (dtype === 'float32') return tf.tensor(values, shape);
  if (dtype === 'int32') return tf.tensor(Int32Array.from(values, (v) => Math.round(v * 4)), shape, 'int32');
  // Built directly: tfjs-backend-wasm 4.22's cast to bool keeps the integer (−3 → 253).
  return tf.tensor(Uint8Array.from(values, (v) => (v > 0 ? 1 : 0)), shape, 'bool');
}

describe('Identity and Cast share the buffer instead of copying', () => {
  it.each(['float32', 'int32', 'bool'] as const)('clone of a %s tensor: same values, no new buffer, survives its source', async (dtype) => {
    await tf.setBackend('wasm');
    const x = make(randomValues(24, 3), [2, 3, 4], dtype);
    const expected = Array.from(x.dataSync());
    const buffers = liveData().wasm;
    const y = tf.clone(x);
    expect(liveData().wasm).toBe(buffers);
    x.dispose();
    expect(y.dtype).toBe(dtype);
    expect(Array.from(y.dataSync())).toEqual(expected);
    y.dispose();
    expect(liveData().wasm).toBe(buffers - 1);
  });

  it('a clone is unaffected by later ops on its source (tensors are immutable; variables take new buffers)', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, snapshot]);
  });

  it('strings still clone (wasm builtin)', async () => {
    const { cpu, wasm } = await both(() => tf.clone(tf.tensor(['a', 'bc', ''])));
    expect(wasm.values).toEqual(cpu.values);
  });

  it.each([
    ['float32', 'float32'],
    ['int32', 'int32'],
    ['bool', 'bool'],
    ['float32', 'int32'],
    ['int32', 'float32'],
    ['bool', 'float32'],
    ['bool', 'int32'],
  ] as const)('cast %s → %s matches cpu', async (from, to) => {
    const values = randomValues(30, 8, 0.2).map((v) => v * 3);
    const { cpu, wasm } = await both(() => tf.cast(make(values, [5, 6], from), to));
    expect(wasm.values).toEqual(cpu.values);
  });

  it('a same-dtype cast adds no buffer', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([[1.5, -2]]);
    const buffers = liveData().wasm;
    const y = tf.cast(x, 'float32');
    expect(liveData().wasm).toBe(buffers);
    tf.dispose([x, y]);
  });
});

describe('comparisons on wasm match the cpu backend', () => {
  // Values on a coarse grid so that ties (where <= and < differ) are common, plus NaN.
  const gridValues = (size: number, seed: number) => {
    const values = randomValues(size, seed, 0.1).map((v) => Math.round(v * 4) / 2);
    if (size > 3) values[size - 2] = Number.NaN;
    return values;
  };
  const cases: { a: number[]; b: number[]; dtype: 'float32' | 'int32' | 'bool'; served: string }[] = [
    { a: [2, 3, 4], b: [2, 3, 4], dtype: 'float32', served: 'same shape' },
    { a: [16, 8, 8, 24], b: [], dtype: 'float32', served: 'tensor vs scalar (ReLU6 gradient)' },
    { a: [], b: [3, 7], dtype: 'float32', served: 'scalar vs tensor' },
    { a: [4, 5], b: [1, 1], dtype: 'float32', served: 'one-element operand of equal rank' },
    { a: [1], b: [6, 2], dtype: 'float32', served: 'one-element operand of lower rank' },
    { a: [3, 4], b: [3, 4], dtype: 'int32', served: 'int32, same shape' },
    { a: [], b: [5], dtype: 'int32', served: 'int32 scalar vs tensor' },
    { a: [5], b: [1, 1], dtype: 'float32', served: 'fallback: the one-element operand adds an axis' },
    { a: [3, 1], b: [1, 4], dtype: 'float32', served: 'fallback: both sides broadcast' },
    { a: [2, 3, 4], b: [4], dtype: 'float32', served: 'fallback: trailing-axis broadcast' },
    { a: [2, 3], b: [2, 3], dtype: 'bool', served: 'fallback: bool' },
    { a: [0, 3], b: [], dtype: 'float32', served: 'empty tensor' },
  ];
  const ops = {
    Less: tf.less,
    LessEqual: tf.lessEqual,
    Greater: tf.greater,
    GreaterEqual: tf.greaterEqual,
    Equal: tf.equal,
    NotEqual: tf.notEqual,
  } as const;

  it.each(COMPARISON_KERNELS.flatMap((op) => cases.map((c) => ({ op, ...c }))))('$op, $dtype $a vs $b ($served)', async ({ op, a, b, dtype }) => {
    const av = gridValues(sizeOf(a), sizeOf(a) + 1);
    const bv = gridValues(sizeOf(b), sizeOf(b) + 2);
    const { cpu, wasm } = await both(() => ops[op](make(av, a, dtype), make(bv, b, dtype)));
    expect(wasm.dtype).toBe('bool');
    expect(wasm.values).toEqual(cpu.values);
  });
});

describe('FusedBatchNorm on wasm matches the cpu backend', () => {
  // The kernel works on tensors of at least 200,000 elements; smaller ones go to the wasm builtin.
  const r = mulberry32(21);
  const cases: { x: number[]; params: number[]; offset: boolean; scale: boolean; centre: number; why: string }[] = [
    { x: [4, 64, 64, 16], params: [16], offset: true, scale: true, centre: 0, why: 'per-channel parameters' },
    { x: [2, 50, 40, 72], params: [1, 1, 1, 72], offset: true, scale: true, centre: 0, why: 'rank-4 per-channel parameters' },
    { x: [4, 64, 64, 16], params: [16], offset: false, scale: false, centre: 0, why: 'no offset, no scale' },
    { x: [4, 64, 64, 16], params: [16], offset: true, scale: false, centre: 0, why: 'offset only' },
    { x: [3, 60, 60, 20], params: [], offset: true, scale: true, centre: 0, why: 'scalar parameters' },
    { x: [4, 64, 64, 16], params: [16], offset: true, scale: true, centre: 1000, why: 'mean far from zero against the spread' },
    { x: [250_000, 3], params: [3], offset: true, scale: true, centre: 0, why: 'rank-2 input' },
    { x: [2, 64, 64, 32], params: [64, 32], offset: true, scale: true, centre: 0, why: 'fallback: parameters per position' },
    { x: [2, 8, 8, 24], params: [24], offset: true, scale: true, centre: 0, why: 'fallback: small tensor' },
  ];
  for (let i = 0; i < 4; i++) {
    const channels = 1 + Math.floor(r() * 40);
    const x = [1 + Math.floor(r() * 3), 0, 0, channels];
    const spatial = Math.ceil(Math.sqrt(200_000 / (x[0]! * channels))) + Math.floor(r() * 6);
    x[1] = spatial;
    x[2] = spatial + Math.floor(r() * 3);
    cases.push({ x, params: [channels], offset: r() < 0.7, scale: r() < 0.7, centre: r() * 4 - 2, why: 'random shape' });
  }

  it.each(cases)('x $x, parameters $params, offset $offset, scale $scale, centre $centre ($why)', async ({ x, params, offset, scale, centre }) => {
    const values = randomValues(sizeOf(x), sizeOf(x) % 997, 0).map((v) => centre + v * 3);
    const p = (seed: number, low: number) => randomValues(sizeOf(params), seed, 0).map((v) => low + Math.abs(v));
    const mean = p(1, centre - 0.5);
    const variance = p(2, 0.2);
    const offsets = p(3, -0.5);
    const scales = p(4, 0.5);
    const f = () =>
      tf.batchNorm(
        tf.tensor(values, x),
        tf.tensor(mean, params),
        tf.tensor(variance, params),
        offset ? tf.tensor(offsets, params) : undefined,
        scale ? tf.tensor(scales, params) : undefined,
        1e-3,
      );
    const { cpu, wasm } = await both(f);
    expect(maxScaledError(wasm.values as number[], cpu.values as number[])).toBeLessThan(1e-5);
  });
});

describe('non-finite values through the XNNPACK-backed BatchNorm', () => {
  it('stay non-finite (a NaN comes out as −Infinity, as from the wasm backend’s own convolutions)', async () => {
    const shape = [4, 64, 64, 16];
    const values = randomValues(sizeOf(shape), 5, 0);
    values[10] = Number.NaN;
    values[20] = Number.POSITIVE_INFINITY;
    values[30] = Number.NEGATIVE_INFINITY;
    const f = () => tf.batchNorm(tf.tensor(values, shape), tf.fill([16], 0.1), tf.fill([16], 2), tf.fill([16], 0.5), tf.fill([16], 1.5));
    const { cpu, wasm } = await both(f);
    const got = wasm.values as number[];
    const want = cpu.values as number[];
    expect([got[10], got[20], got[30]]).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(Number.isNaN(want[10])).toBe(true);
    for (const i of [10, 20, 30]) got[i] = want[i] = 0;
    expect(maxScaledError(got, want)).toBeLessThan(1e-5);
  });
});

describe('Slice and PadV2 on wasm match the cpu backend', () => {
  const r = mulberry32(33);
  const sliceCases: { shape: number[]; begin: number[]; size: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { shape: [4, 66, 66, 16], begin: [0, 1, 1, 0], size: [4, 64, 64, 16], dtype: 'float32' },
    { shape: [2, 9, 7, 3], begin: [0, 0, 0, 1], size: [2, 9, 7, 2], dtype: 'float32' },
    { shape: [4, 6], begin: [1, 0], size: [2, 6], dtype: 'int32' },
    { shape: [3, 5, 4], begin: [1, 2, 1], size: [-1, 2, -1], dtype: 'bool' },
    { shape: [10], begin: [3], size: [0], dtype: 'float32' },
    { shape: [5, 5], begin: [0, 0], size: [5, 5], dtype: 'float32' },
    // Four axes outside the run: the copies run in TypeScript instead of copy.wat.
    { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 1, 2], size: [1, 3, 2, 3, 3], dtype: 'float32' },
  ];
  for (let i = 0; i < 16; i++) {
    const shape = randomShape(r, 1 + Math.floor(r() * 5), 6);
    const begin = shape.map((d) => Math.floor(r() * d));
    const size = shape.map((d, j) => (r() < 0.2 ? -1 : 1 + Math.floor(r() * (d - begin[j]!))));
    sliceCases.push({ shape, begin, size, dtype: (['float32', 'int32', 'bool'] as const)[i % 3]! });
  }

  it.each(sliceCases)('slice $dtype $shape from $begin size $size', async ({ shape, begin, size, dtype }) => {
    const values = randomValues(sizeOf(shape), sizeOf(shape) + 5, 0.1);
    const { cpu, wasm } = await both(() => tf.slice(make(values, shape, dtype), begin, size));
    expect(wasm.values).toEqual(cpu.values);
  });

  it('slice of strings (wasm builtin)', async () => {
    const { cpu, wasm } = await both(() => tf.slice(tf.tensor([['a', 'b', 'c'], ['d', 'e', 'f']]), [0, 1], [2, 2]));
    expect(wasm.values).toEqual(cpu.values);
  });

  const padCases: { shape: number[]; paddings: [number, number][]; value: number; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { shape: [4, 32, 32, 3], paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], value: 0, dtype: 'float32' },
    { shape: [2, 9, 9, 16], paddings: [[0, 0], [2, 2], [2, 2], [0, 0]], value: 0, dtype: 'float32' },
    { shape: [3, 4], paddings: [[0, 0], [0, 3]], value: -1.5, dtype: 'float32' },
    { shape: [3, 4], paddings: [[2, 1], [0, 0]], value: 7, dtype: 'int32' },
    { shape: [2, 2], paddings: [[1, 1], [1, 1]], value: 1, dtype: 'bool' },
    { shape: [0, 3], paddings: [[1, 1], [0, 1]], value: 2, dtype: 'float32' },
    { shape: [6], paddings: [[0, 0]], value: 0, dtype: 'float32' },
    { shape: [2, 3, 2, 2, 5], paddings: [[0, 0], [1, 0], [0, 0], [0, 0], [1, 2]], value: 0, dtype: 'float32' }, // copies in TypeScript
  ];
  for (let i = 0; i < 12; i++) {
    const shape = randomShape(r, 1 + Math.floor(r() * 4), 5);
    padCases.push({ shape, paddings: shape.map(() => [Math.floor(r() * 3), Math.floor(r() * 3)] as [number, number]), value: Math.round(r() * 8) - 4, dtype: i % 4 === 3 ? 'int32' : 'float32' });
  }

  it.each(padCases)('pad $dtype $shape by $paddings with $value', async ({ shape, paddings, value, dtype }) => {
    const values = randomValues(sizeOf(shape), sizeOf(shape) + 9, 0.1);
    const { cpu, wasm } = await both(() => tf.pad(make(values, shape, dtype), paddings, value));
    expect(wasm.values).toEqual(cpu.values);
  });
});
