import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setIm2colBudget } from '../../../src/lib/backends/wasm-kernels/conv2d';
import { geometryOf } from '../../../src/lib/backends/wasm-kernels/geometry';
import { simdKernels, type SimdKernels } from '../../../src/lib/backends/wasm-kernels/simd/module';
import { isWinogradShaped, winogradFilterGrad, winogradForward, winogradInputGrad } from '../../../src/lib/backends/wasm-kernels/winograd';
import { liveData, maxScaledError, randomValues, sizeOf, startWasm } from './wasm';

// Winograd F(4×4, 3×3) against the cpu backend's direct convolution, called straight (the kernels choose
// it only for Loupe's convolution path; conv-gradients.test.ts covers that choice through tfjs).

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  name: string;
  x: [number, number, number, number];
  outC: number;
  pad: Pad;
}

const CASES: Case[] = [
  { name: "ResNet18's layer shape, scaled down (same padding, even map)", x: [2, 8, 8, 8], outC: 8, pad: 'same' },
  { name: 'odd map: the last tiles partly outside (224² gives 7×7 in layer4)', x: [2, 7, 5, 4], outC: 12, pad: 'same' },
  { name: 'channels in and out that differ, more than one vector', x: [3, 6, 6, 12], outC: 16, pad: 'same' },
  { name: 'valid padding', x: [1, 9, 6, 8], outC: 4, pad: 'valid' },
  { name: 'unequal explicit padding', x: [2, 5, 7, 4], outC: 8, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  { name: 'a 1×1 map', x: [2, 1, 1, 8], outC: 4, pad: 'same' },
];

/**
 * |error| / (1 + |expected|) bound, the conv kernels' own: F(4×4, 3×3)'s transform constants (4, 5, 1/6,
 * 1/24) round in float32, 1.1–1.6·10⁻⁵ on these cases (a wrong transform is off by O(1)).
 */
const TOLERANCE = 1e-4;

let backend: BackendWasm;
let kernels: SimdKernels;

beforeAll(async () => {
  backend = await startWasm();
  const k = simdKernels(backend);
  if (!k) throw new Error('no wasm SIMD in this Node');
  kernels = k;
});

afterAll(() => setIm2colBudget());

function infoOf(c: Case): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.x, [3, 3, c.x[3], c.outC], 1, 1, c.pad);
}

async function onCpu<T extends tf.Tensor>(f: () => T): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const out = f();
  const values = (await out.data()) as Float32Array;
  out.dispose();
  await tf.setBackend('wasm');
  return values;
}

/** Runs one of the Winograd functions on wasm tensors of `values` and reads its output. */
function onWasm(inputs: [Float32Array, number[]][], run: (infos: tf.TensorInfo[]) => tf.TensorInfo): Float32Array {
  const tensors = inputs.map(([values, shape]) => tf.tensor(values, shape));
  const out = run(tensors.map((t) => ({ dataId: t.dataId, shape: t.shape, dtype: 'float32' })));
  const values = backend.readSync(out.dataId) as Float32Array;
  backend.disposeData(out.dataId);
  tf.dispose(tensors);
  return values;
}

describe('Winograd F(4×4, 3×3) on wasm SIMD matches the cpu backend', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_, c, i) => {
    const info = infoOf(c);
    const g = geometryOf(info);
    expect(isWinogradShaped(g)).toBe(true);
    const filterShape = [3, 3, c.x[3], c.outC];
    const x = randomValues(sizeOf(c.x), 10 + i);
    const w = randomValues(sizeOf(filterShape), 20 + i, 0);
    const dy = randomValues(sizeOf(info.outShape), 30 + i);
    const pad = c.pad;
    const expectedY = await onCpu(() => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, filterShape as never), 1, pad));
    const expectedDx = await onCpu(() => tf.conv2dTranspose(tf.tensor4d(dy, info.outShape), tf.tensor4d(w, filterShape as never), c.x, 1, pad));
    const expectedDw = await onCpu(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, c.x), dy: tf.tensor4d(dy, info.outShape) }, { strides: 1, pad, dataFormat: 'NHWC', filterShape } as never) as tf.Tensor,
    );

    const before = liveData();
    const y = onWasm([[x, c.x], [w, filterShape]], ([xi, wi]) => winogradForward(backend, kernels, xi!, wi!, g, info.outShape));
    const dx = onWasm([[dy, info.outShape], [w, filterShape]], ([dyi, wi]) => winogradInputGrad(backend, kernels, dyi!, wi!, g, [...c.x]));
    const dw = onWasm([[x, c.x], [dy, info.outShape]], ([xi, dyi]) => winogradFilterGrad(backend, kernels, xi!, dyi!, g, filterShape));
    expect(liveData()).toEqual(before);
    expect(maxScaledError(y, expectedY)).toBeLessThan(TOLERANCE);
    expect(maxScaledError(dx, expectedDx)).toBeLessThan(TOLERANCE);
    expect(maxScaledError(dw, expectedDw)).toBeLessThan(TOLERANCE);
  });

  it('gives the same results when the images go through in chunks', async () => {
    const c = CASES[1]!;
    const info = infoOf(c);
    const g = geometryOf(info);
    const filterShape = [3, 3, c.x[3], c.outC];
    const x = randomValues(sizeOf(c.x), 1);
    const w = randomValues(sizeOf(filterShape), 2, 0);
    const dy = randomValues(sizeOf(info.outShape), 3);
    const whole = [
      onWasm([[x, c.x], [w, filterShape]], ([xi, wi]) => winogradForward(backend, kernels, xi!, wi!, g, info.outShape)),
      onWasm([[dy, info.outShape], [w, filterShape]], ([dyi, wi]) => winogradInputGrad(backend, kernels, dyi!, wi!, g, [...c.x])),
      onWasm([[x, c.x], [dy, info.outShape]], ([xi, dyi]) => winogradFilterGrad(backend, kernels, xi!, dyi!, g, filterShape)),
    ];
    setIm2colBudget(16); // one image per chunk
    try {
      const chunked = [
        onWasm([[x, c.x], [w, filterShape]], ([xi, wi]) => winogradForward(backend, kernels, xi!, wi!, g, info.outShape)),
        onWasm([[dy, info.outShape], [w, filterShape]], ([dyi, wi]) => winogradInputGrad(backend, kernels, dyi!, wi!, g, [...c.x])),
        onWasm([[x, c.x], [dy, info.outShape]], ([xi, dyi]) => winogradFilterGrad(backend, kernels, xi!, dyi!, g, filterShape)),
      ];
      // Per image the tiles are the same computation: the forward and input gradient are the same bits; the
      // filter gradient sums the chunks' GEMMs one after another, so only its rounding may move.
      expect(chunked[0]).toEqual(whole[0]);
      expect(chunked[1]).toEqual(whole[1]);
      expect(maxScaledError(chunked[2]!, whole[2]!)).toBeLessThan(TOLERANCE);
    } finally {
      setIm2colBudget();
    }
  });

  it('is chosen only for stride-1, undilated 3×3 convolutions with channels in fours', () => {
    const base = infoOf(CASES[0]!);
    expect(isWinogradShaped(geometryOf(base))).toBe(true);
    expect(isWinogradShaped({ ...geometryOf(base), strideH: 2 })).toBe(false);
    expect(isWinogradShaped({ ...geometryOf(base), dilationW: 2 })).toBe(false);
    expect(isWinogradShaped({ ...geometryOf(base), filterH: 5, filterW: 5 })).toBe(false);
    expect(isWinogradShaped({ ...geometryOf(base), inC: 3 })).toBe(false);
    expect(isWinogradShaped({ ...geometryOf(base), outC: 6 })).toBe(false);
  });
});
