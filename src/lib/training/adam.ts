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
  /** −lr × the multiplier of the scaled variables (a fine-tuned backbone); made only when there are some. */
  negativeScaledLearningRate?: tf.Scalar;
}

/** Variables trained at another learning rate than the rest (a backbone's, fine-tuning). */
export interface ScaledLearningRate {
  names: ReadonlySet<string>;
  learningRate: number;
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
  private scaled?: ScaledLearningRate;

  /**
   * Sets the learning rate from the next step on (a schedule), and optionally another rate for some
   * variables (a backbone's multiplier). The slots (moments, step count) are untouched.
   * @example optimizer.setLearningRates(1e-3, { names: new Set(backboneVariableNames), learningRate: 1e-4 });
   */
  setLearningRates(learningRate: number, scaled?: ScaledLearningRate): void {
    this.learningRate = learningRate;
    this.scaled = scaled;
    if (this.constants) tf.dispose(Object.values(this.constants));
    this.constants = undefined;
    this.fusedConstants = undefined;
  }

  /** The rate a variable is trained at now. */
  learningRateOf(name: string): number {
    return this.scaled?.names.has(name) ? this.scaled.learningRate : this.learningRate;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const c = (this.constants ??= {
      one: tf.scalar(1),
      beta1: tf.scalar(this.beta1),
      beta2: tf.scalar(this.beta2),
      oneMinusBeta1: tf.scalar(1 - this.beta1),
      oneMinusBeta2: tf.scalar(1 - this.beta2),
      epsilon: tf.scalar(this.epsilon),
      negativeLearningRate: tf.scalar(-this.learningRate),
      ...(this.scaled ? { negativeScaledLearningRate: tf.scalar(-this.scaled.learningRate) } : {}),
    });
    const state = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(c.one, state.accBeta1);
      const oneMinusAccBeta2 = tf.sub(c.one, state.accBeta2);
      // On webgpu 1 − βᵗ stays on the device as the kernel's inputs (reading it would stall the GPU).
      const onGpu = tf.getBackend() === 'webgpu';
      const fused = adamStepAvailable() ? this.fusedAttrs(onGpu ? undefined : [oneMinusAccBeta1, oneMinusAccBeta2]) : undefined;
      const oneMinusAccBeta = fused && onGpu ? tf.stack([oneMinusAccBeta1, oneMinusAccBeta2]) : undefined;
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const isScaled = this.scaled?.names.has(name) ?? false;
        const firstMoment = state.accumulatedFirstMoment[i].variable;
        const secondMoment = state.accumulatedSecondMoment[i].variable;
        if (fused && adamStepTakes(value, firstMoment, secondMoment, gradient)) {
          const inputs = { value, m: firstMoment, v: secondMoment, gradient, ...(oneMinusAccBeta && { oneMinusAccBeta }) };
          const attrs = isScaled ? { ...fused, negativeLearningRate: Math.fround(-this.scaled!.learningRate) } : fused;
          const [newValue, newM, newV] = tf.engine().runKernel(ADAM_STEP_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
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
        const rate = isScaled ? c.negativeScaledLearningRate! : c.negativeLearningRate;
        value.assign(tf.add(tf.mul(tf.div(corrected1, tf.add(tf.sqrt(corrected2), c.epsilon)), rate), value));
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, c.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, c.beta2));
    });
    this.incrementIterations();
  }

  /**
   * The fused kernel's constants: the very float32 values of the op-by-op path's scalars (`tf.scalar` rounds
   * the same JavaScript numbers to float32). 1 − βᵗ is read at every step from the tensors the op-by-op path
   * divides by, so it follows `setWeights` and checkpoint restores: two scalar reads from the wasm heap (CPU
   * memory) per step; on webgpu (`accumulated` undefined) the kernel takes those tensors as inputs instead.
   */
  private fusedAttrs(accumulated?: [tf.Tensor, tf.Tensor]): Omit<AdamStepAttrs, 'oneMinusAccBeta1' | 'oneMinusAccBeta2'> & Partial<AdamStepAttrs> {
    const f = Math.fround;
    this.fusedConstants ??= {
      beta1: f(this.beta1),
      oneMinusBeta1: f(1 - this.beta1),
      beta2: f(this.beta2),
      oneMinusBeta2: f(1 - this.beta2),
      epsilon: f(this.epsilon),
      negativeLearningRate: f(-this.learningRate),
    };
    if (!accumulated) return this.fusedConstants;
    const read = (t: tf.Tensor) => t.dataSync()[0]!;
    return { ...this.fusedConstants, oneMinusAccBeta1: read(accumulated[0]), oneMinusAccBeta2: read(accumulated[1]) };
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
