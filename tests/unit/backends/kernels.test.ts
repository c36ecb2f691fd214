import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backpropFilterInfo, conv2dBackpropFilter } from '../../../src/lib/backends/kernels/conv2d-backprop-filter';
import { registerFastCpuKernels } from '../../../src/lib/backends/kernels/register';
import { mulberry32 } from '../../../src/lib/random';

/** The definition, evaluated literally: an oracle independent of any loop order. */
function oracle(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], strides: number, pad: 'same' | 'valid' | number) {
  const info = backpropFilterInfo(x.shape, { strides, pad, dataFormat: 'NHWC', filterShape });
  const xs = x.arraySync();
  const dys = dy.arraySync();
  const [fh, fw, ci, co] = filterShape;
  const out = new Float32Array(fh * fw * ci * co);
  for (let kh = 0; kh < fh; kh++)
    for (let kw = 0; kw < fw; kw++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) {
          let sum = 0;
          for (let b = 0; b < info.batchSize; b++)
            for (let oy = 0; oy < info.outHeight; oy++)
              for (let ox = 0; ox < info.outWidth; ox++) {
                const iy = oy * info.strideHeight + kh - info.padInfo.top;
                const ix = ox * info.strideWidth + kw - info.padInfo.left;
                if (iy >= 0 && iy < info.inHeight && ix >= 0 && ix < info.inWidth) sum += xs[b]![iy]![ix]![c]! * dys[b]![oy]![ox]![o]!;
              }
          out[((kh * fw + kw) * ci + c) * co + o] = sum;
        }
  return { info, out };
}

function random(shape: number[], seed: number, zeroShare = 0.3): tf.Tensor {
  const r = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => (r() < zeroShare ? 0 : r() * 2 - 1)), shape);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Conv2DBackpropFilter (cpu)', () => {
  const cases = [
    { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' as const },
    { x: [1, 8, 8, 5], filter: [3, 3, 5, 2], strides: 2, pad: 'same' as const },
    { x: [3, 9, 6, 2], filter: [5, 3, 2, 6], strides: 2, pad: 'valid' as const },
    { x: [2, 6, 6, 4], filter: [1, 1, 4, 8], strides: 1, pad: 'valid' as const },
    { x: [1, 10, 7, 3], filter: [3, 3, 3, 3], strides: 1, pad: 1 },
  ];

  it.each(cases)('matches the definition for x $x, filter $filter, stride $strides, pad $pad', ({ x, filter, strides, pad }) => {
    const input = random(x, 1) as tf.Tensor4D;
    const out = tf.conv2d(input, random(filter, 2) as tf.Tensor4D, strides, pad);
    const dy = random(out.shape, 3, 0) as tf.Tensor4D;
    const { info, out: expected } = oracle(input, dy, filter as [number, number, number, number], strides, pad);
    const actual = conv2dBackpropFilter(input.dataSync() as Float32Array, dy.dataSync() as Float32Array, info);
    for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-4);
  });

  it('replaces the registered kernel: gradients through tf.conv2d match the definition', () => {
    registerFastCpuKernels();
    const input = random([2, 8, 8, 3], 4) as tf.Tensor4D;
    const filter = random([3, 3, 3, 5], 5) as tf.Tensor4D;
    const dy = random([2, 4, 4, 5], 6, 0) as tf.Tensor4D;
    const grad = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input, f as tf.Tensor4D, 2, 'same'), dy)))(filter);
    const { out: expected } = oracle(input, dy, [3, 3, 3, 5], 2, 'same');
    const actual = grad.dataSync();
    for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-4);
  });
});
