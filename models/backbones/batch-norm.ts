import * as tf from '@tensorflow/tfjs';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import { activate, type BatchNormActivation } from './activations';

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
/**
 * The same two with the activation after the BatchNorm inside: attr `activation` ('relu' or 'hardswish')
 * on both; the gradient also takes `beta` and its `dy` is the activation's output gradient.
 */
export const BATCH_NORM_ACTIVATION_TRAINING_KERNEL = 'LoupeBatchNormActivationTraining';
export const BATCH_NORM_ACTIVATION_TRAINING_GRAD_KERNEL = 'LoupeBatchNormActivationTrainingGrad';

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

export interface LoupeBatchNormalizationArgs extends BatchNormalizationLayerArgs {
  /** An activation applied to the output (Loupe's own config field: torch's BatchNorm2d and the module after it). */
  activation?: BatchNormActivation;
}

/**
 * Keras's BatchNormalization — same weights, config and class name, so saved models are unchanged and load
 * into it — that trains through the fused kernels where the active backend registers them (float32,
 * channels last, with γ and β); everything else is the base class's own code. With `activation`, the
 * activation after it too (saved in its config): one layer, and on wasm one kernel each way, where torch
 * has two modules, so that BatchNorm's output is never written out whole nor kept for the backward pass.
 * @example new LoupeBatchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.99, activation: 'relu', name: 'bn1' }).apply(x)
 */
export class LoupeBatchNormalization extends BatchNormalizationBase {
  static readonly className = 'BatchNormalization';
  readonly activation?: BatchNormActivation;

  constructor({ activation, ...args }: LoupeBatchNormalizationArgs = {}) {
    super(args);
    if (activation !== undefined && activation !== 'relu' && activation !== 'hardswish') {
      throw new Error(`BatchNormalization's activation must be 'relu' or 'hardswish', got ${JSON.stringify(activation)}`);
    }
    if (activation !== undefined) this.activation = activation;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config = super.getConfig();
    return this.activation === undefined ? config : { ...config, activation: this.activation };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const state = this as unknown as BatchNormState;
    // A frozen layer (γ's variable not trainable, as freezing a backbone leaves it) runs in inference mode,
    // as in Keras: its running statistics must not move while the backbone is frozen.
    if (kwargs['training'] === true && state.gamma && !(state.gamma.read() as tf.Variable).trainable) kwargs = { ...kwargs, training: false };
    const backend = tf.getBackend();
    const fusable =
      kwargs['training'] === true &&
      x !== undefined &&
      x.dtype === 'float32' &&
      (state.axis === -1 || state.axis === x.rank - 1) &&
      state.center &&
      state.scale;
    const registered = (...kernels: string[]) => fusable && kernels.every((k) => tf.getKernel(k, backend) !== undefined);
    const { activation } = this;
    if (activation && registered(BATCH_NORM_ACTIVATION_TRAINING_KERNEL, BATCH_NORM_ACTIVATION_TRAINING_GRAD_KERNEL)) return this.trainingStep(x!, activation);
    const fused = registered(BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_TRAINING_GRAD_KERNEL);
    if (!activation) return fused ? this.trainingStep(x!) : super.call(inputs, kwargs);
    return tf.tidy(() => activate(activation, fused ? this.trainingStep(x!) : (super.call(inputs, kwargs) as tf.Tensor)));
  }

  /** The training step on the fused kernels (with the activation, where given), the moving statistics moved. */
  private trainingStep(x: tf.Tensor, activation?: BatchNormActivation): tf.Tensor {
    const state = this as unknown as BatchNormState;
    return tf.tidy(() => {
      const moving = [state.movingMean, state.movingVariance] as const;
      const { y, moved } = trainingBatchNorm(x, state.gamma.read(), state.beta.read(), moving[0].read(), moving[1].read(), state.epsilon, state.momentum, activation);
      moving.forEach((variable, i) => variable.write(moved[i]!));
      tf.dispose(moved);
      return y;
    });
  }
}

/**
 * y = BatchNorm(x) with batch statistics (then the activation, where given), differentiable in x, γ and
 * β, and the moving mean and variance moved (the caller's to write and dispose).
 */
function trainingBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  movingMean: tf.Tensor,
  movingVariance: tf.Tensor,
  epsilon: number,
  momentum: number,
  activation?: BatchNormActivation,
): { y: tf.Tensor; moved: tf.Tensor[] } {
  const [forward, gradient] = activation
    ? [BATCH_NORM_ACTIVATION_TRAINING_KERNEL, BATCH_NORM_ACTIVATION_TRAINING_GRAD_KERNEL]
    : [BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_TRAINING_GRAD_KERNEL];
  const attrs: tf.NamedAttrMap = activation ? { activation } : {};
  let moved: tf.Tensor[] = [];
  const op = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const inputs = { x: input, gamma: g, beta: b, movingMean, movingVariance };
    const [y, mean, variance, newMean, newVariance] = tf.engine().runKernel(forward, inputs, { epsilon, momentum, ...attrs }) as tf.Tensor[];
    // β only where the gradient recomputes the activation's input from x.
    save(activation ? [input, g, mean!, variance!, b] : [input, g, mean!, variance!]);
    moved = [tf.keep(newMean!), tf.keep(newVariance!)]; // outlive the op's own scope
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, [sx, sg, sm, sv, sb]: tf.Tensor[]) => {
        const saved = { x: sx!, dy, gamma: sg!, mean: sm!, variance: sv!, ...(sb ? { beta: sb } : {}) };
        return tf.engine().runKernel(gradient, saved, { epsilon, ...attrs }) as tf.Tensor[];
      },
    };
  }) as CustomGradientFunc<tf.Tensor>);
  return { y: op(x, gamma, beta), moved };
}

// Under tfjs-layers' own name: every BatchNormalization deserialized from now on (saved models included) is
// this class. `fromConfig` is inherited (the typings want it declared on the class itself).
tf.serialization.registerClass(LoupeBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
