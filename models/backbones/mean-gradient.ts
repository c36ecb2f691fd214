import * as tf from '@tensorflow/tfjs';

/**
 * tfjs's gradient of Mean, without its full-size tensor of ones: tfjs 4.22 computes dx as
 * `(reshape(dy) · ones(x.shape)) / n`, filling the ones in JavaScript and uploading them to the backend on
 * every step, then running two full-size kernels. This divides the reduced dy by n and broadcasts it:
 * every element is the same float32 quotient dy / n, so the bits are tfjs's. Global average pooling (every
 * squeeze-excitation block of MobileNetV3, both backbones' heads) takes its gradient this way; in a dual
 * MobileNetV3-Small step at 128² the ones alone took ~14 ms on wasm (docs/benchmarks.md).
 */
export function meanGradient(dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap): { x: () => tf.Tensor } {
  const [x] = saved as [tf.Tensor];
  const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
  const reduceSize = tf.util.sizeFromShape(axes.map((axis) => x.shape[axis]!));
  return {
    x: () => {
      const expanded = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
      return tf.broadcastTo(tf.div(tf.reshape(dy, expanded), reduceSize), x.shape);
    },
  };
}

tf.registerGradient({ kernelName: tf.Mean, inputsToSave: ['x'], gradFunc: meanGradient as unknown as tf.GradFunc });
