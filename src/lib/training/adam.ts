import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { ADAM_STEP_KERNEL, adamStepAvailable, adamStepTakes, type AdamStepAttrs } from '../backends/wasm-kernels/adam';

/** The parts of tfjs 4.22's AdamOptimizer state that `applyGradients` updates (private in its typings). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

interface Constants {
  one: tf.Scalar;
  beta1: tf.Scalar;
  beta2: tf.Scalar;
  oneMinusBeta1: tf.Scalar;
  oneMinusBeta2: tf.Scalar;
  epsilon: tf.Scalar;
  negativeLearningRate: tf.Scalar;
}

/**
 * tfjs's Adam, same arithmetic and state (checkpoints and `getWeights` are unchanged), with its constants
 * made once. tfjs's `applyGradients` turns β₁, 1 − β₁, β₂, 1 − β₂, ε and −lr into new scalar tensors for
 * every variable at every step: ~2,000 tensors written from JavaScript per step for the dual
 * MobileNetV3-Small, each an upload on a GPU backend (docs/benchmarks.md, "Transfers per step").
 * On the wasm backend with Loupe's kernels registered, each variable takes one fused kernel call
 * (`LoupeAdamStep`, same float32 operations in the same order, so bit-identical) instead of ~12.
 */
export class ConstantsAdam extends tf.AdamOptimizer {
  private constants?: Constants;
  /** The constants as numbers, for the fused kernel; read once from `constants`. */
  private fusedConstants?: Omit<AdamStepAttrs, 'oneMinusAccBeta1' | 'oneMinusAccBeta2'>;

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const c = (this.constants ??= {
      one: tf.scalar(1),
      beta1: tf.scalar(this.beta1),
      beta2: tf.scalar(this.beta2),
      oneMinusBeta1: tf.scalar(1 - this.beta1),
      oneMinusBeta2: tf.scalar(1 - this.beta2),
      epsilon: tf.scalar(this.epsilon),
      negativeLearningRate: tf.scalar(-this.learningRate),
    });
    const state = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(c.one, state.accBeta1);
      const oneMinusAccBeta2 = tf.sub(c.one, state.accBeta2);
      const fused = adamStepAvailable() ? this.fusedAttrs(c, oneMinusAccBeta1, oneMinusAccBeta2) : undefined;
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const firstMoment = state.accumulatedFirstMoment[i].variable;
        const secondMoment = state.accumulatedSecondMoment[i].variable;
        if (fused && adamStepTakes(value, firstMoment, secondMoment, gradient)) {
          const inputs = { value, m: firstMoment, v: secondMoment, gradient };
          const [newValue, newM, newV] = tf.engine().runKernel(ADAM_STEP_KERNEL, inputs, fused as unknown as tf.NamedAttrMap) as tf.Tensor[];
          firstMoment.assign(newM!);
          secondMoment.assign(newV!);
          value.assign(newValue!);
          return;
        }
        const newFirstMoment = tf.add(tf.mul(firstMoment, c.beta1), tf.mul(gradient, c.oneMinusBeta1));
        const newSecondMoment = tf.add(tf.mul(secondMoment, c.beta2), tf.mul(tf.square(gradient), c.oneMinusBeta2));
        const corrected1 = tf.div(newFirstMoment, oneMinusAccBeta1);
        const corrected2 = tf.div(newSecondMoment, oneMinusAccBeta2);
        firstMoment.assign(newFirstMoment);
        secondMoment.assign(newSecondMoment);
        value.assign(tf.add(tf.mul(tf.div(corrected1, tf.add(tf.sqrt(corrected2), c.epsilon)), c.negativeLearningRate), value));
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, c.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, c.beta2));
    });
    this.incrementIterations();
  }

  /**
   * The fused kernel's constants: the very float32 values the op-by-op path multiplies by (read once from
   * its scalars, so a later change of `learningRate` is ignored by both paths alike). 1 − βᵗ is read at
   * every step from the tensors the op-by-op path divides by, so it follows `setWeights` and checkpoint
   * restores. These `dataSync`s are scalar reads from the wasm heap (CPU memory, no GPU sync: this path
   * runs only on the wasm backend): two per step.
   */
  private fusedAttrs(c: Constants, oneMinusAccBeta1: tf.Tensor, oneMinusAccBeta2: tf.Tensor): AdamStepAttrs {
    const read = (t: tf.Tensor) => t.dataSync()[0]!;
    this.fusedConstants ??= {
      beta1: read(c.beta1),
      oneMinusBeta1: read(c.oneMinusBeta1),
      beta2: read(c.beta2),
      oneMinusBeta2: read(c.oneMinusBeta2),
      epsilon: read(c.epsilon),
      negativeLearningRate: read(c.negativeLearningRate),
    };
    return { ...this.fusedConstants, oneMinusAccBeta1: read(oneMinusAccBeta1), oneMinusAccBeta2: read(oneMinusAccBeta2) };
  }

  /**
   * tfjs's `setWeights` sets βᵗ to `pow(β, step + 1)`, which differs in the last bits from the product of
   * float32 multiplications that `applyGradients` builds (β₂ = 0.999 from the 2nd step on): a resumed run
   * then divides by another 1 − βᵗ and drifts from the uninterrupted one. Rebuild the very product.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await super.setWeights(weightValues);
    const state = this as unknown as AdamState & { iterations_: number };
    const product = (beta: number) => {
      const factor = Math.fround(beta);
      let value = factor; // a fresh optimizer's βᵗ, before its first step
      // float32 × float32 is exact in a double, so one fround is the float32 multiply of cpu and wasm.
      for (let step = 0; step < state.iterations_; step++) value = Math.fround(value * factor);
      return value;
    };
    tf.tidy(() => {
      state.accBeta1.assign(tf.scalar(product(this.beta1)));
      state.accBeta2.assign(tf.scalar(product(this.beta2)));
    });
  }

  override dispose(): void {
    super.dispose();
    if (this.constants) tf.dispose(Object.values(this.constants));
    this.constants = undefined;
    this.fusedConstants = undefined;
  }
}

/** `tf.train.adam(learningRate)` with constants made once (see ConstantsAdam). */
export function adam(learningRate: number): tf.Optimizer {
  return new ConstantsAdam(learningRate, 0.9, 0.999);
}
