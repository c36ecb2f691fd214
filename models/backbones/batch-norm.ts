import * as tf from '@tensorflow/tfjs';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';

/**
 * Kernels a backend may register to run BatchNorm's training step as one kernel each way instead of ~10
 * forward and ~25 backward (Loupe's wasm kernels do: src/lib/backends/wasm-kernels/batch-norm-training.ts).
 * Forward: inputs `x` (channels last), `gamma`, `beta`, `movingMean`, `movingVariance`; attrs `epsilon`,
 * `momentum`; outputs y, the batch mean, the (biased) batch variance, and the moving mean and variance
 * moved towards them as Keras does, v − (v − batch)·(1 − momentum), each step rounded to float32.
 * Gradient: inputs `x`, `dy`, `gamma`, `mean`, `variance`; attr `epsilon`; outputs dx, dgamma, dbeta —
 * the gradient through the batch statistics too, as tfjs's composed ops give.
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
    // A frozen layer (γ's variable not trainable, as freezing a backbone leaves it) runs in inference mode,
    // as in Keras: its running statistics must not move while the backbone is frozen.
    if (kwargs['training'] === true && state.gamma && !(state.gamma.read() as tf.Variable).trainable) kwargs = { ...kwargs, training: false };
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
      const moving = [state.movingMean, state.movingVariance] as const;
      const { y, moved } = trainingBatchNorm(x, state.gamma.read(), state.beta.read(), moving[0].read(), moving[1].read(), state.epsilon, state.momentum);
      moving.forEach((variable, i) => variable.write(moved[i]!));
      tf.dispose(moved);
      return y;
    });
  }
}

/**
 * y = BatchNorm(x) with batch statistics, differentiable in x, γ and β, and the moving mean and variance
 * moved (the caller's to write and dispose).
 */
function trainingBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  movingMean: tf.Tensor,
  movingVariance: tf.Tensor,
  epsilon: number,
  momentum: number,
): { y: tf.Tensor; moved: tf.Tensor[] } {
  let moved: tf.Tensor[] = [];
  const op = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const inputs = { x: input, gamma: g, beta: b, movingMean, movingVariance };
    const [y, mean, variance, newMean, newVariance] = tf.engine().runKernel(BATCH_NORM_TRAINING_KERNEL, inputs, { epsilon, momentum }) as tf.Tensor[];
    save([input, g, mean!, variance!]);
    moved = [tf.keep(newMean!), tf.keep(newVariance!)]; // outlive the op's own scope
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, [sx, sg, sm, sv]: tf.Tensor[]) =>
        tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, { x: sx!, dy, gamma: sg!, mean: sm!, variance: sv! }, { epsilon }) as tf.Tensor[],
    };
  }) as CustomGradientFunc<tf.Tensor>);
  return { y: op(x, gamma, beta), moved };
}

// Under tfjs-layers' own name: every BatchNormalization deserialized from now on (saved models included) is
// this class. `fromConfig` is inherited (the typings want it declared on the class itself).
tf.serialization.registerClass(LoupeBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
