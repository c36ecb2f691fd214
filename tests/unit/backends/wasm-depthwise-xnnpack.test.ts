import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateFilter } from '../../../src/lib/backends/wasm-kernels/depthwise-xnnpack';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { mulberry32 } from '../../../src/lib/random';
import { liveData, maxScaledError, randomValues, runKernelOn, sizeOf, startWasm } from '../kernels/wasm';

// DepthwiseConv2dNativeBackpropInput at stride 1 runs as XNNPACK's forward depthwise convolution of dy with
// the filter turned 180° (src/lib/backends/wasm-kernels/depthwise-xnnpack.ts); the other cases keep the
// TypeScript kernel. Both against tfjs's cpu kernel.

beforeAll(async () => {
  await startWasm();
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
  rounding?: 'floor' | 'round' | 'ceil';
  path: string;
}

const cases: Case[] = [
  { x: [16, 8, 8, 240], filter: [5, 5, 240, 1], strides: [1, 1], dilations: [1, 1], pad: 'same', path: 'xnnpack: MobileNetV3-Small 5×5 layer' },
  { x: [2, 9, 7, 5], filter: [3, 3, 5, 1], strides: [1, 1], dilations: [1, 1], pad: 'same', path: 'xnnpack: 3×3 same, non-square input' },
  { x: [2, 6, 6, 3], filter: [2, 2, 3, 1], strides: [1, 1], dilations: [1, 1], pad: 'same', path: 'xnnpack: even filter, asymmetric same padding' },
  { x: [3, 9, 8, 4], filter: [3, 5, 4, 1], strides: [1, 1], dilations: [1, 1], pad: 'valid', path: 'xnnpack: valid, non-square filter' },
  { x: [1, 7, 7, 6], filter: [3, 3, 6, 1], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [2, 0], [0, 1], [0, 0]], path: 'xnnpack: explicit asymmetric padding' },
  { x: [2, 8, 9, 3], filter: [3, 3, 3, 1], strides: [1, 1], dilations: [1, 1], pad: 1, rounding: 'floor', path: 'xnnpack: numeric padding' },
  { x: [2, 5, 5, 4], filter: [5, 5, 4, 1], strides: [1, 1], dilations: [1, 1], pad: 'valid', path: 'xnnpack: filter as large as the input' },
  { x: [2, 8, 8, 6], filter: [3, 3, 6, 1], strides: [2, 2], dilations: [1, 1], pad: 'same', path: 'TypeScript: stride 2' },
  { x: [2, 9, 9, 4], filter: [3, 3, 4, 1], strides: [1, 1], dilations: [2, 2], pad: 'same', path: 'TypeScript: dilation 2' },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 2], strides: [1, 1], dilations: [1, 1], pad: 'same', path: 'TypeScript: channel multiplier 2' },
];
const r = mulberry32(71);
for (let i = 0; i < 8; i++) {
  const k = 1 + Math.floor(r() * 5);
  const h = k + Math.floor(r() * 8);
  const w = k + Math.floor(r() * 8);
  cases.push({ x: [1 + Math.floor(r() * 3), h, w, 1 + Math.floor(r() * 12)], filter: [k, 1 + Math.floor(r() * k), 0, 1], strides: [1, 1], dilations: [1, 1], pad: r() < 0.5 ? 'same' : 'valid', path: 'xnnpack: random' });
}
for (const c of cases) c.filter[2] = c.x[3];

describe('depthwise input gradient on wasm matches the cpu backend', () => {
  it.each(cases)('$path: x $x, filter $filter, stride $strides, dilation $dilations, pad $pad', async (c) => {
    const [batch, inH, inW] = c.x;
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations, c.pad, c.rounding, true);
    const dy = { values: randomValues(sizeOf(info.outShape), sizeOf(c.x), 0), shape: info.outShape };
    const filter = { values: randomValues(sizeOf(c.filter), sizeOf(c.filter) + 1, 0), shape: c.filter };
    const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.rounding, inputShape: c.x };
    // tfjs's cpu kernel ignores dilation: compare a dilated case with the zero-inserted filter at dilation 1.
    const dilated = c.dilations[0] > 1;
    const reference = dilated ? zeroInserted(filter, c.dilations[0]) : filter;
    const expected = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: reference }, { ...attrs, dilations: [1, 1] });
    const before = liveData();
    const actual = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs);
    expect(liveData()).toEqual(before);
    expect(actual.shape).toEqual([batch, inH, inW, c.x[3] ]);
    expect(maxScaledError(actual.values, expected.values)).toBeLessThan(1e-5);
  });

  it('rotateFilter turns each channel by 180°', () => {
    const filter = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i); // [2,3,2,1]: value = (i·3 + j)·2 + c
    const out = new Float32Array(filter.length);
    rotateFilter(filter, 2, 3, 2, out);
    expect(Array.from(out)).toEqual([10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1]);
  });
});

function zeroInserted(filter: { values: Float32Array; shape: number[] }, rate: number): { values: Float32Array; shape: number[] } {
  const [fh, fw, c, m] = filter.shape as [number, number, number, number];
  const eh = (fh - 1) * rate + 1;
  const ew = (fw - 1) * rate + 1;
  const values = new Float32Array(eh * ew * c * m);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++) values.set(filter.values.subarray((i * fw + j) * c * m, (i * fw + j + 1) * c * m), (i * rate * ew + j * rate) * c * m);
  return { values, shape: [eh, ew, c, m] };
}
