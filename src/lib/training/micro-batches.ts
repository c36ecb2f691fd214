import * as tf from '@tensorflow/tfjs';

type Inputs = tf.Tensor | tf.Tensor[];

/** The batch's loss for inputs and targets (a mean over the examples, as every task loss is). */
export type BatchLoss = (xs: Inputs, ys: tf.Tensor) => tf.Scalar;

/**
 * One optimizer step over a batch, computed `microBatch` examples at a time: each slice's gradients are
 * weighted by its share of the batch and summed, then applied once. The update equals the whole batch's
 * (up to float rounding) for layers that treat examples independently; BatchNorm normalises each slice
 * with that slice's statistics, as gradient accumulation does in PyTorch. This is how a big batch fits a
 * backend with bounded memory (the wasm heap is at most 4 GiB). Returns the batch's mean loss; the caller
 * disposes it. A `microBatch` at least the batch size is a plain `minimize`.
 */
export function minimizeInMicroBatches(
  optimizer: tf.Optimizer,
  lossOf: BatchLoss,
  xs: Inputs,
  ys: tf.Tensor,
  microBatch: number,
  variables?: readonly tf.Variable[],
): tf.Scalar {
  const size = ys.shape[0]!;
  // Gradients only of trainable variables (a frozen backbone's are never computed), applied under every
  // variable's name in one fixed order: the optimizer keys its slots by position, so they stay put when
  // a backbone is frozen or unfrozen.
  const trainable = variables?.filter((v) => v.trainable);
  const apply = (grads: tf.NamedTensorMap) =>
    optimizer.applyGradients(variables ? (Object.fromEntries(variables.map((v) => [v.name, grads[v.name] ?? null])) as tf.NamedTensorMap) : grads);
  if (!(microBatch > 0) || microBatch >= size) {
    if (!variables) return optimizer.minimize(() => lossOf(xs, ys), true)!;
    const { value, grads } = optimizer.computeGradients(() => lossOf(xs, ys), trainable);
    try {
      apply(grads);
    } finally {
      tf.dispose(Object.values(grads));
    }
    return value;
  }
  let sum: tf.NamedTensorMap | undefined;
  let loss: tf.Scalar | undefined;
  try {
    for (let start = 0; start < size; start += microBatch) {
      const n = Math.min(microBatch, size - start);
      const { value, grads } = tf.tidy(() => {
        const slice = (t: tf.Tensor) => tf.slice(t, start, n);
        const part = Array.isArray(xs) ? xs.map(slice) : slice(xs);
        return optimizer.computeGradients(() => tf.mul(lossOf(part, slice(ys)), n / size) as tf.Scalar, trainable);
      });
      if (!loss) loss = value;
      else {
        const previous = loss;
        loss = tf.tidy(() => tf.add(previous, value) as tf.Scalar);
        tf.dispose([previous, value]);
      }
      if (!sum) sum = grads;
      else {
        const previous = sum;
        sum = Object.fromEntries(Object.entries(grads).map(([name, grad]) => [name, tf.add(previous[name]!, grad)]));
        tf.dispose([...Object.values(previous), ...Object.values(grads)]);
      }
    }
    apply(sum!);
    return loss!;
  } catch (error) {
    loss?.dispose();
    throw error;
  } finally {
    if (sum) tf.dispose(Object.values(sum));
  }
}
