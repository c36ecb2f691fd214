import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../../models/backbones/mean-gradient';
import { registerWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { randomValues, startWasm } from '../kernels/wasm';

// The Mean gradient Loupe registers must give tfjs's own result, (reshape(dy) · ones(x.shape)) / n, bit for bit.
describe.each(['cpu', 'wasm'])("Mean's gradient without the full-size ones (%s)", (backend) => {
  beforeAll(async () => {
    if (backend === 'wasm') {
      registerWasmTrainingKernels();
      await startWasm();
    } else await tf.setBackend('cpu');
  });

  const cases: [string, number[], number | number[], boolean][] = [
    ['global average pooling (axes 1, 2)', [2, 5, 4, 8], [1, 2], false],
    ['kept dimensions', [2, 5, 4, 8], [1, 2], true],
    ['the last axis, negative', [3, 7, 6], -1, false],
    ['every axis', [4, 3], [0, 1], false],
  ];

  it.each(cases)('%s', (_, shape, axis, keepDims) => {
    tf.tidy(() => {
      const x = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 3), shape);
      const y = tf.mean(x, axis, keepDims);
      const dy = tf.tensor(randomValues(y.size, 4), y.shape);
      const actual = tf.grad((t: tf.Tensor) => tf.mean(t, axis, keepDims))(x, dy);
      const axes = tf.util.parseAxisParam(axis, shape);
      const expanded = shape.map((size, i) => (axes.includes(i) ? 1 : size));
      const n = tf.util.sizeFromShape(axes.map((i) => shape[i]!));
      const expected = tf.div(tf.mul(tf.reshape(dy, expanded), tf.ones(shape)), n);
      expect(actual.shape).toEqual(shape);
      expect(Array.from(actual.dataSync())).toEqual(Array.from(expected.dataSync()));
    });
  });
});
