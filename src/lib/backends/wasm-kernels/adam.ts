// Adam's update of one variable as one kernel on the wasm backend. Done op by op, it takes ~12 tfjs kernel
// calls per variable (mul, add, square, div, sqrt, ...), each ~24 µs of tfjs overhead: ~3,300 calls and
// ~100 ms per step for the dual MobileNetV3-Small's ~280 variables. This kernel reads value, m, v and the
// gradient and writes the new three in one SIMD pass (simd/adam.wat), rounding as the op-by-op path does.
import { engine, getBackend, getKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { pointer } from './heap';
import { input, type KernelArgs } from './kernels';
import { simdKernels } from './simd/module';

/** A Loupe kernel (no tfjs op has this name), registered for 'wasm' by `registerWasmTrainingKernels`. */
export const ADAM_STEP_KERNEL = 'LoupeAdamStep';

/** The step's constants, float32 like tfjs's scalars (each is rounded to float32 on its way into wasm). */
export interface AdamStepAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 − β₁ᵗ, as tfjs computes it in float32. */
  oneMinusAccBeta1: number;
  /** 1 − β₂ᵗ, as tfjs computes it in float32. */
  oneMinusAccBeta2: number;
  epsilon: number;
  negativeLearningRate: number;
}

/**
 * Whether `ADAM_STEP_KERNEL` can serve now: the active backend is wasm, the kernel is registered (not with
 * `simd: false`) and Loupe's SIMD kernels run on it; or the backend is webgpu and Loupe's webgpu kernels are
 * registered (webgpu-kernels/index.ts). Otherwise an optimizer updates op by op.
 */
export function adamStepAvailable(): boolean {
  if (getBackend() === 'webgpu') return getKernel(ADAM_STEP_KERNEL, 'webgpu') !== undefined;
  if (getBackend() !== 'wasm' || !getKernel(ADAM_STEP_KERNEL, 'wasm')) return false;
  return simdKernels(engine().backend as BackendWasm) !== null;
}

/** Whether the kernel takes these tensors: all float32 and of one size (other dtypes go op by op). */
export function adamStepTakes(value: TensorInfo, m: TensorInfo, v: TensorInfo, gradient: TensorInfo): boolean {
  const size = sizeOf(value);
  return [value, m, v, gradient].every((t) => t.dtype === 'float32' && sizeOf(t) === size);
}

function sizeOf(t: TensorInfo): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/**
 * `LoupeAdamStep`: inputs `value`, `m`, `v`, `gradient`; attrs `AdamStepAttrs`; outputs the new value, m and
 * v (float32, the value's shape). Throws where `adamStepAvailable`/`adamStepTakes` say no: the caller checks.
 * @example const [value, m, v] = tf.engine().runKernel(ADAM_STEP_KERNEL, { value, m, v, gradient }, attrs);
 */
export function adamStepKernel(): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const value = input(args.inputs, 'value');
    const m = input(args.inputs, 'm');
    const v = input(args.inputs, 'v');
    const gradient = input(args.inputs, 'gradient');
    if (!adamStepTakes(value, m, v, gradient)) {
      const seen = [value, m, v, gradient].map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ');
      throw new Error(`${ADAM_STEP_KERNEL} takes value, m, v and gradient float32 of one size; got ${seen}`);
    }
    const kernels = simdKernels(backend);
    if (!kernels) throw new Error(`${ADAM_STEP_KERNEL} needs wasm SIMD on the wasm backend's memory; update op by op here`);
    const a = args.attrs as unknown as AdamStepAttrs;
    const outValue = backend.makeOutput([...value.shape], 'float32');
    const outM = backend.makeOutput([...value.shape], 'float32');
    const outV = backend.makeOutput([...value.shape], 'float32');
    // Heap views only after every allocation: malloc can grow the heap, which detaches earlier views.
    const at = (t: TensorInfo) => pointer(backend, t);
    kernels.adam_step(
      at(value), at(m), at(v), at(gradient), at(outValue), at(outM), at(outV), sizeOf(value),
      a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.oneMinusAccBeta1, a.oneMinusAccBeta2, a.epsilon, a.negativeLearningRate,
    );
    return [outValue, outM, outV];
  }) as unknown as KernelFunc;
}
