// Hard-swish and hard-sigmoid (models/backbones/activations.ts) as one kernel each way, and ReLU's gradient,
// on the wasm backend: the SIMD loops of simd/activations.wat for whole groups of four, these scalar ones for
// a tensor's last few elements (and everything, where wasm SIMD is missing). Same float32 operations in the
// same order as the composed tfjs ops and their gradients, so the layers give the same bits either way.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import {
  HARD_SIGMOID_GRAD_KERNEL,
  HARD_SIGMOID_KERNEL,
  HARD_SWISH_GRAD_KERNEL,
  HARD_SWISH_KERNEL,
  RELU_GRAD_KERNEL,
} from '../../../../models/backbones/activations';
import { input, type KernelArgs } from './kernels';
import { simdKernels, type SimdKernels } from './simd/module';

const f32 = Math.fround;

/** relu6(x + 3) / 6 in float32 steps. */
function gate(x: number): number {
  return f32(Math.min(Math.max(f32(x + 3), 0), 6) / 6);
}

/** relu6's gradient mask at x + 3 (NaN at NaN, as tfjs's cpu Step). */
function mask(x: number): number {
  const t = f32(x + 3);
  if (Number.isNaN(t)) return Number.NaN;
  return t <= 6 && t > 0 ? 1 : 0;
}

type Pointer = number;

/** Forward kernels: SIMD loop (pointers x, out, count) and the scalar function. */
const FORWARD: Record<string, { simd: (k: SimdKernels) => (x: Pointer, out: Pointer, count: number) => void; scalar: (x: number) => number }> = {
  [HARD_SWISH_KERNEL]: { simd: (k) => k.hard_swish, scalar: (x) => f32(x * gate(x)) },
  [HARD_SIGMOID_KERNEL]: { simd: (k) => k.hard_sigmoid, scalar: gate },
};

/** Gradient kernels (of the input, given dy): SIMD loop (pointers x, dy, dx, count) and the scalar function. */
const GRADIENT: Record<string, { simd: (k: SimdKernels) => (x: Pointer, dy: Pointer, dx: Pointer, count: number) => void; scalar: (x: number, dy: number) => number }> = {
  [HARD_SWISH_GRAD_KERNEL]: { simd: (k) => k.hard_swish_grad, scalar: (x, dy) => f32(f32(dy * gate(x)) + f32(f32(f32(dy * x) / 6) * mask(x))) },
  [HARD_SIGMOID_GRAD_KERNEL]: { simd: (k) => k.hard_sigmoid_grad, scalar: (x, dy) => f32(f32(dy / 6) * mask(x)) },
  [RELU_GRAD_KERNEL]: { simd: (k) => k.relu_grad, scalar: (x, dy) => f32(dy * (Number.isNaN(x) ? Number.NaN : x > 0 ? 1 : 0)) },
};

export const ACTIVATION_KERNELS = [...Object.keys(FORWARD), ...Object.keys(GRADIENT)];

/** The activations BatchNorm's training kernels apply after normalizing (batch-norm-training.ts). */
export type ChannelActivation = 'relu' | 'hardswish';

/**
 * Their scalar forward and gradient functions, for channel counts the SIMD passes do not take (those have
 * the same steps inline: simd/batch-norm.wat). ReLU is max(x, 0) with NaN kept, as tfjs's cpu Relu.
 */
export const SCALAR_ACTIVATIONS: Record<ChannelActivation, { forward(x: number): number; gradient(x: number, dy: number): number }> = {
  relu: { forward: (x) => (x > 0 || Number.isNaN(x) ? x : 0), gradient: GRADIENT[RELU_GRAD_KERNEL]!.scalar },
  hardswish: { forward: FORWARD[HARD_SWISH_KERNEL]!.scalar, gradient: GRADIENT[HARD_SWISH_GRAD_KERNEL]!.scalar },
};

/**
 * The kernel `name` (one of ACTIVATION_KERNELS): input `x`, and `dy` for a gradient; float32. Whole groups
 * of four run on the SIMD loop, the last few elements (or all, without wasm SIMD) on the scalar function.
 */
export function activationKernel(name: string): KernelFunc {
  const forward = FORWARD[name];
  const gradient = GRADIENT[name];
  if (!forward && !gradient) throw new Error(`no activation kernel '${name}'`);
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const dy = gradient ? input(args.inputs, 'dy') : undefined;
    if (x.dtype !== 'float32' || (dy && dy.dtype !== 'float32')) throw new Error(`${name} takes float32 tensors, got ${x.dtype}`);
    const out = backend.makeOutput([...x.shape], 'float32');
    // Heap views only after the allocation (malloc can grow the heap and detach older views).
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
    const [xs, outs] = [view(x), view(out)];
    const kernels = simdKernels(backend);
    const vectorized = kernels ? xs.length - (xs.length % 4) : 0;
    if (gradient) {
      const dys = view(dy!);
      if (kernels && vectorized > 0) gradient.simd(kernels)(xs.byteOffset, dys.byteOffset, outs.byteOffset, vectorized);
      for (let i = vectorized; i < xs.length; i++) outs[i] = gradient.scalar(xs[i]!, dys[i]!);
    } else {
      if (kernels && vectorized > 0) forward!.simd(kernels)(xs.byteOffset, outs.byteOffset, vectorized);
      for (let i = vectorized; i < xs.length; i++) outs[i] = forward!.scalar(xs[i]!);
    }
    return out;
  }) as unknown as KernelFunc;
}
