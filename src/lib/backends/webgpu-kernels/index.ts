// Loupe's fused kernels on tfjs-backend-webgpu: Adam's update of a variable, the hard-swish/hard-sigmoid
// activations and BatchNorm's training step, in one dispatch (two for BatchNorm each way) where the composed
// ops take ~13 (Adam), 4 forward and ~9 backward (activations), ~10 and ~25 (BatchNorm). On a
// GPU every dispatch is a command, a bind group and a uniform upload the device cannot hide
// (docs/benchmarks.md, "WebGPU"). Same float32 operations in the same order as the composed ops.
import { getKernel, registerKernel, unregisterKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import {
  HARD_SIGMOID_GRAD_KERNEL,
  HARD_SIGMOID_KERNEL,
  HARD_SWISH_GRAD_KERNEL,
  HARD_SWISH_KERNEL,
} from '../../../../models/backbones/activations';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '../../../../models/backbones/batch-norm';
import { ADAM_STEP_KERNEL, adamStepTakes, type AdamStepAttrs } from '../wasm-kernels/adam';
import { batchNormTraining, batchNormTrainingGrad } from './batch-norm';
import { ELEMENT, input, runElementwise, type Args, type Shader } from './run';

const ADAM: Shader = {
  key: 'loupe_adam_step',
  // 1 − β₁ᵗ and 1 − β₂ᵗ in one tensor: a stage may bind 8 storage buffers (WebGPU's default limit).
  inputs: ['value', 'm', 'v', 'gradient', 'oneMinusAccBeta'],
  outputs: ['newValue', 'newM', 'newV'],
  uniforms: (['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'epsilon', 'negativeLearningRate'] as const).map((name) => [name, 'f32'] as const),
  body: `${ELEMENT}
  let g = gradient[i];
  let m1 = m[i] * u.beta1 + g * u.oneMinusBeta1;
  let v1 = v[i] * u.beta2 + (g * g) * u.oneMinusBeta2;
  let c1 = m1 / oneMinusAccBeta[0];
  let c2 = v1 / oneMinusAccBeta[1];
  newValue[i] = (c1 / (sqrt(c2) + u.epsilon)) * u.negativeLearningRate + value[i];
  newM[i] = m1;
  newV[i] = v1;`,
};

/**
 * `LoupeAdamStep` on webgpu: as on wasm (wasm-kernels/adam.ts), except that 1 − β₁ᵗ and 1 − β₂ᵗ come as the
 * input `oneMinusAccBeta` ([1 − β₁ᵗ, 1 − β₂ᵗ]): reading them into attrs would stall the GPU at every step.
 */
const adamStep = ((args: Args) => {
  const [value, m, v, gradient, accumulated] = ADAM.inputs.map((name) => input(args, name)) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  if (!adamStepTakes(value, m, v, gradient)) throw new Error(`${ADAM_STEP_KERNEL} takes value, m, v and gradient of one size`);
  const a = args.attrs as unknown as Omit<AdamStepAttrs, 'oneMinusAccBeta1' | 'oneMinusAccBeta2'>;
  const constants = [a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.epsilon, a.negativeLearningRate];
  return runElementwise(args.backend, ADAM, [value, m, v, gradient, accumulated], [...value.shape], constants);
}) as unknown as KernelFunc;

// relu6(x + 3) / 6 and relu6's gradient mask at x + 3, as tfjs's Relu6 and its gradient (0 < t ≤ 6).
const GATE = `${ELEMENT}
  let t = x[i] + 3.0; let gate = clamp(t, 0.0, 6.0) / 6.0; let mask = select(0.0, 1.0, t > 0.0 && t <= 6.0);`;

const ACTIVATIONS: Record<string, Shader> = {
  [HARD_SWISH_KERNEL]: { key: 'loupe_hard_swish', inputs: ['x'], outputs: ['y'], uniforms: [], body: `${GATE} y[i] = x[i] * gate;` },
  [HARD_SIGMOID_KERNEL]: { key: 'loupe_hard_sigmoid', inputs: ['x'], outputs: ['y'], uniforms: [], body: `${GATE} y[i] = gate;` },
  [HARD_SWISH_GRAD_KERNEL]: {
    key: 'loupe_hard_swish_grad',
    inputs: ['x', 'dy'],
    outputs: ['dx'],
    uniforms: [],
    body: `${GATE} dx[i] = dy[i] * gate + ((dy[i] * x[i]) / 6.0) * mask;`,
  },
  [HARD_SIGMOID_GRAD_KERNEL]: { key: 'loupe_hard_sigmoid_grad', inputs: ['x', 'dy'], outputs: ['dx'], uniforms: [], body: `${GATE} dx[i] = (dy[i] / 6.0) * mask;` },
};

function activation(shader: Shader): KernelFunc {
  return ((args: Args) => {
    const inputs = shader.inputs.map((name) => input(args, name));
    return runElementwise(args.backend, shader, inputs, [...inputs[0]!.shape], [])[0]!;
  }) as unknown as KernelFunc;
}

const KERNELS: Record<string, KernelFunc> = {
  [ADAM_STEP_KERNEL]: adamStep,
  ...Object.fromEntries(Object.entries(ACTIVATIONS).map(([name, shader]) => [name, activation(shader)])),
  [BATCH_NORM_TRAINING_KERNEL]: batchNormTraining as unknown as KernelFunc,
  [BATCH_NORM_TRAINING_GRAD_KERNEL]: batchNormTrainingGrad as unknown as KernelFunc,
};

/** Registers the kernels above for 'webgpu' (once; before or after the backend starts). */
export function registerWebGpuTrainingKernels(): void {
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    if (!getKernel(kernelName, 'webgpu')) registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
}

/** Removes them again: the layers and Adam go back to tfjs's composed ops (for comparison in tests). */
export function unregisterWebGpuTrainingKernels(): void {
  for (const kernelName of Object.keys(KERNELS)) if (getKernel(kernelName, 'webgpu')) unregisterKernel(kernelName, 'webgpu');
}
