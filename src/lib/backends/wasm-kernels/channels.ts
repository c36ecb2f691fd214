// Multiply and Sub of an NHWC tensor by a vector of its channels on the SIMD kernels (simd/channels.wat).
// tfjs-backend-wasm 4.22 runs any broadcast other than a scalar through a generic index-mapping loop,
// 3–7 ns an element against ~1 for same-shape operands; BatchNorm's gradient and squeeze-and-excite do
// this on every layer. IEEE float32 arithmetic either way, so results (NaN and ±∞ included) are the same.
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { pointer } from './heap';
import { input, type Fallback, type KernelArgs } from './kernels';
import { simdKernels } from './simd/module';

/** How a small operand spreads over a full NHWC-like shape: one channel vector, or one per outer index. */
export interface ChannelBroadcast {
  outer: number;
  pixels: number;
  channels: number;
  /** Floats between the vectors of consecutive outer indices (0: one vector for all). */
  stride: number;
}

/**
 * The channel-wise broadcast of `small` against `full` (`[…, C]` against `[1, …, 1, C]` or
 * `[B, 1, …, 1, C]`), or null for any other pair — including equal shapes, and C not a multiple of 4.
 */
export function channelBroadcast(full: readonly number[], small: readonly number[]): ChannelBroadcast | null {
  const rank = full.length;
  if (rank < 2 || small.length > rank) return null;
  const padded = [...Array<number>(rank - small.length).fill(1), ...small];
  const channels = full[rank - 1]!;
  if (padded[rank - 1] !== channels || channels % 4 !== 0 || channels === 0) return null;
  if (padded.slice(1, rank - 1).some((d) => d !== 1)) return null;
  const size = full.reduce((a, b) => a * b, 1);
  if (padded[0] === 1) return size === channels ? null : { outer: 1, pixels: size / channels, channels, stride: 0 };
  if (padded[0] !== full[0] || rank === 2) return null;
  return { outer: full[0]!, pixels: size / (full[0]! * channels), channels, stride: channels };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `Multiply` (either operand the vector) or `Sub` (full minus vector) on the SIMD kernels; the rest to `fallback`. */
export function channelBinaryKernel(kind: 'Multiply' | 'Sub', fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const a = input(args.inputs, 'a');
    const b = input(args.inputs, 'b');
    const kernels = simdKernels(backend);
    if (!kernels || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    let full: TensorInfo = a;
    let vector: TensorInfo = b;
    if (kind === 'Multiply' && !sameShape(a.shape, shape)) [full, vector] = [b, a];
    const spread = sameShape(full.shape, shape) ? channelBroadcast(shape, vector.shape) : null;
    if (!spread) return fallback(args);
    const out = backend.makeOutput(shape, 'float32');
    const run = kind === 'Multiply' ? kernels.mul_channels : kernels.sub_channels;
    run(pointer(backend, full), pointer(backend, vector), pointer(backend, out), spread.outer, spread.pixels, spread.channels, spread.stride);
    return out;
  }) as unknown as KernelFunc;
}
