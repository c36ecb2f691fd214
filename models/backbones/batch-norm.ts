import * as tf from '@tensorflow/tfjs';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';

/**
 * Kernels a backend may register to run BatchNorm's training step as one kernel each way instead of ~10
 * forward and ~25 backward (Loupe's wasm kernels do: src/lib/backends/wasm-kernels/batch-norm-training.ts).
 * Forward: inputs `x` (channels last), `gamma`, `beta`; attr `epsilon`; outputs y, the batch mean and the
 * (biased) batch variance. Gradient: inputs `x`, `dy`, `gamma`, `mean`, `variance`; attr `epsilon`;
 * outputs dx, dgamma, dbeta — the gradient through the batch statistics too, as tfjs's composed ops give.
 */
export const BATCH_NORM_TRAINING_KERNEL = 'LoupeBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'LoupeBatchNormTrainingGrad';

/** tfjs-layers' BatchNormalization class: the tfjs package exports only its factory, so take it from an instance. */
const BatchNormalizationBase = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as new (
  args?: BatchNormalizationLayerArgs,
) => BatchNormalization;

/** The base class's state this layer reads (private in tfjs-layers' typings). */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

/**
 * Keras's BatchNormalization — same weights, config and class name, so saved models are unchanged and load
 * into it — that trains through the fused kernels where the active backend registers them (float32,
 * channels last, with γ and β); everything else is the base class's own code.
 * @example new LoupeBatchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.99, name: 'bn1' }).apply(x)
 */
export class LoupeBatchNormalization extends BatchNormalizationBase {
  static readonly className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const state = this as unknown as BatchNormState;
    const backend = tf.getBackend();
    const fused =
      kwargs['training'] === true &&
      x !== undefined &&
      x.dtype === 'float32' &&
      (state.axis === -1 || state.axis === x.rank - 1) &&
      state.center &&
      state.scale &&
      tf.getKernel(BATCH_NORM_TRAINING_KERNEL, backend) !== undefined &&
      tf.getKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, backend) !== undefined;
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = trainingBatchNorm(x, state.gamma.read(), state.beta.read(), state.epsilon);
      // The base class's moving averages, op for op: v ← v − (v − batch)·(1 − momentum).
      for (const [moving, batch] of [[state.movingMean, mean], [state.movingVariance, variance]] as const) {
        const value = moving.read();
        moving.write(tf.sub(value, tf.mul(tf.sub(value, batch), 1 - state.momentum)));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

/** y = BatchNorm(x) with batch statistics, differentiable in x, γ and β; mean and variance are the caller's to dispose. */
function trainingBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const attrs = { epsilon };
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING_KERNEL, { x: input, gamma: g, beta: b }, attrs) as tf.Tensor[];
    save([input, g, mean!, variance!]);
    stats = [tf.keep(mean!), tf.keep(variance!)]; // outlive the op's own scope, for the moving averages
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, [sx, sg, sm, sv]: tf.Tensor[]) =>
        tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, { x: sx!, dy, gamma: sg!, mean: sm!, variance: sv! }, attrs) as tf.Tensor[],
    };
  }) as CustomGradientFunc<tf.Tensor>);
  const y = op(x, gamma, beta);
  return { y, mean: stats[0]!, variance: stats[1]! };
}

// Under tfjs-layers' own name: every BatchNormalization deserialized from now on (saved models included) is
// this class. `fromConfig` is inherited (the typings want it declared on the class itself).
tf.serialization.registerClass(LoupeBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
