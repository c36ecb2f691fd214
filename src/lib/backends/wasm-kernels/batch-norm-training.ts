// BatchNorm's training step (models/backbones/batch-norm.ts) as one kernel each way on the wasm backend.
// Forward: the batch mean and variance in one pass, as moments about a shift near the mean (the first rows'
// mean, so that Σd²/N − (Σd/N)² cancels nothing a two-pass variance keeps), then y = (x − mean)·γ/σ + β.
// Backward, with N values per channel, σ² = var + ε:
//   dβ = Σ dy,   dγ = Σ dy·(x − mean) / σ,   dx = γ/σ · dy − γ·dβ/(Nσ) − (x − mean)·γ·Σ dy·(x − mean)/(Nσ³)
// (the gradient through the batch statistics, which tfjs's composed ops reach through ~25 kernels): two
// passes. The passes run on simd/batch-norm.wat when the channels are a multiple of 4, else in the
// TypeScript loops below; per-channel arithmetic in doubles.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { pointer } from './heap';
import { input, type KernelArgs } from './kernels';
import { simdKernels, type SimdKernels } from './simd/module';

interface Layout {
  pixels: number;
  channels: number;
}

/** The passes, over the heap: on the SIMD kernels or in TypeScript. Sums are added into zeroed doubles. */
interface Passes {
  /** Σ over x's first `rows` rows. */
  sum(x: TensorInfo, rows: number, sums: Float64Array): void;
  /** Σ (x − shift) and Σ (x − shift)² over every row. */
  shiftedMoments(x: TensorInfo, shift: Float32Array, sums: Float64Array, squares: Float64Array): void;
  gradientSums(x: TensorInfo, dy: TensorInfo, mean: TensorInfo, sumDy: Float64Array, sumDyDev: Float64Array): void;
  /** out = (x − mean)·scale + shift (+ dy·dyScale). */
  apply(x: TensorInfo, mean: TensorInfo, scale: Float32Array, shift: Float32Array, out: TensorInfo, dy?: { dy: TensorInfo; dyScale: Float32Array }): void;
}

function simdPasses(backend: BackendWasm, kernels: SimdKernels, { pixels, channels }: Layout): Passes {
  const at = (t: TensorInfo) => pointer(backend, t);
  return {
    sum: (x, rows, sums) => kernels.sum_middle(at(x), sums.byteOffset, 1, rows, channels),
    shiftedMoments: (x, shift, sums, squares) => kernels.bn_shifted_moments(at(x), shift.byteOffset, sums.byteOffset, squares.byteOffset, pixels, channels),
    gradientSums: (x, dy, mean, sumDy, sumDyDev) => kernels.bn_gradient_sums(at(x), at(dy), at(mean), sumDy.byteOffset, sumDyDev.byteOffset, pixels, channels),
    apply: (x, mean, scale, shift, out, withDy) =>
      kernels.bn_apply(at(x), at(mean), scale.byteOffset, shift.byteOffset, withDy ? at(withDy.dy) : 0, withDy ? withDy.dyScale.byteOffset : 0, at(out), pixels, channels),
  };
}

function scalarPasses(backend: BackendWasm, { pixels, channels: C }: Layout): Passes {
  const view = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  return {
    sum(x, rows, sums) {
      const xs = view(x);
      for (let i = 0; i < rows * C; i++) sums[i % C]! += xs[i]!;
    },
    shiftedMoments(x, shift, sums, squares) {
      const xs = view(x);
      for (let i = 0; i < pixels * C; i++) {
        const d = Math.fround(xs[i]! - shift[i % C]!);
        sums[i % C]! += d;
        squares[i % C]! += Math.fround(d * d);
      }
    },
    gradientSums(x, dy, mean, sumDy, sumDyDev) {
      const [xs, dys, m] = [view(x), view(dy), view(mean)];
      for (let i = 0; i < pixels * C; i++) {
        sumDy[i % C]! += dys[i]!;
        sumDyDev[i % C]! += Math.fround(dys[i]! * Math.fround(xs[i]! - m[i % C]!));
      }
    },
    apply(x, mean, scale, shift, out, withDy) {
      const [xs, m, o] = [view(x), view(mean), view(out)];
      const dys = withDy ? view(withDy.dy) : undefined;
      for (let i = 0; i < pixels * C; i++) {
        const c = i % C;
        const v = Math.fround(Math.fround(Math.fround(xs[i]! - m[c]!) * scale[c]!) + shift[c]!);
        o[i] = dys ? Math.fround(v + Math.fround(dys[i]! * withDy!.dyScale[c]!)) : v;
      }
    },
  };
}

/** Rows whose mean is the moments' shift: one SIMD block, a cheap estimate of the mean. */
const SHIFT_ROWS = 32;

function layoutOf(x: TensorInfo): Layout {
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const size = x.shape.reduce((a, b) => a * b, 1);
  return { pixels: channels === 0 ? 0 : size / channels, channels };
}

function passesFor(backend: BackendWasm, layout: Layout): Passes {
  const kernels = layout.channels % 4 === 0 ? simdKernels(backend) : null;
  return kernels ? simdPasses(backend, kernels, layout) : scalarPasses(backend, layout);
}

/** Zeroed doubles and float32 vectors of C values in one temporary heap buffer (views after all allocations). */
function scratch(backend: BackendWasm, channels: number, doubles: number, floats: number): { buffer: TensorInfo; views(): { f64: Float64Array[]; f32: Float32Array[] } } {
  const buffer = backend.makeOutput([channels * (2 * doubles + floats)], 'float32');
  return {
    buffer,
    views() {
      const base = backend.typedArrayFromHeap(buffer) as Float32Array;
      const f64 = Array.from({ length: doubles }, (_, i) => new Float64Array(base.buffer, base.byteOffset + i * channels * 8, channels).fill(0));
      const f32 = Array.from({ length: floats }, (_, i) => base.subarray((2 * doubles + i) * channels, (2 * doubles + i + 1) * channels));
      return { f64, f32 };
    },
  };
}

function float32Vector(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function checkFloat32(name: string, tensors: TensorInfo[]): void {
  const other = tensors.find((t) => t.dtype !== 'float32');
  if (other) throw new Error(`${name} takes float32 tensors, got ${other.dtype}`);
}

/**
 * Forward: inputs x, gamma, beta, movingMean, movingVariance; attrs epsilon, momentum; outputs y, mean,
 * variance (biased), and the moving mean and variance moved: v − (v − batch)·(1 − momentum), rounded to
 * float32 at each step as Keras's three ops round it.
 */
export function batchNormTrainingKernel(name: string): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const [x, gamma, beta, movingMean, movingVariance] = ['x', 'gamma', 'beta', 'movingMean', 'movingVariance'].map((n) => input(args.inputs, n)) as [
      TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo,
    ];
    checkFloat32(name, [x, gamma, beta, movingMean, movingVariance]);
    const attrs = args.attrs as { epsilon?: number; momentum?: number } | undefined;
    const epsilon = Number(attrs?.epsilon ?? 1e-3);
    const decay = Math.fround(1 - Number(attrs?.momentum ?? 0.99));
    const layout = layoutOf(x);
    const C = layout.channels;
    const y = backend.makeOutput([...x.shape], 'float32');
    const mean = backend.makeOutput([C], 'float32');
    const variance = backend.makeOutput([C], 'float32');
    const moved = [backend.makeOutput([C], 'float32'), backend.makeOutput([C], 'float32')];
    const work = scratch(backend, C, 2, 2);
    const passes = passesFor(backend, layout);
    const { f64: [sums, squares], f32: [shift, scale] } = work.views();
    const N = layout.pixels;
    const head = Math.min(SHIFT_ROWS, N);
    passes.sum(x, head, sums!);
    for (let c = 0; c < C; c++) shift![c] = sums![c]! / head;
    sums!.fill(0);
    passes.shiftedMoments(x, shift!, sums!, squares!);
    const [meanValues, varianceValues, g] = [mean, variance, gamma].map((t) => float32Vector(backend, t)) as [Float32Array, Float32Array, Float32Array];
    for (let c = 0; c < C; c++) {
      const offset = sums![c]! / N;
      meanValues[c] = shift![c]! + offset;
      varianceValues[c] = Math.max(0, squares![c]! / N - offset * offset);
      scale![c] = g[c]! / Math.sqrt(varianceValues[c]! + epsilon);
    }
    passes.apply(x, mean, scale!, float32Vector(backend, beta), y);
    backend.disposeData(work.buffer.dataId);
    [[movingMean, meanValues], [movingVariance, varianceValues]].forEach(([moving, batch], i) => {
      const [v, b, out] = [float32Vector(backend, moving as TensorInfo), batch as Float32Array, float32Vector(backend, moved[i]!)];
      for (let c = 0; c < C; c++) out[c] = Math.fround(v[c]! - Math.fround(Math.fround(v[c]! - b[c]!) * decay));
    });
    return [y, mean, variance, ...moved];
  }) as unknown as KernelFunc;
}

/** Gradient: inputs x, dy, gamma, mean, variance; attr epsilon; outputs dx, dgamma, dbeta. */
export function batchNormTrainingGradKernel(name: string): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const [x, dy, gamma, mean, variance] = ['x', 'dy', 'gamma', 'mean', 'variance'].map((n) => input(args.inputs, n)) as TensorInfo[] as [
      TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo,
    ];
    checkFloat32(name, [x, dy, gamma, mean, variance]);
    const epsilon = Number((args.attrs as { epsilon?: number } | undefined)?.epsilon ?? 1e-3);
    const layout = layoutOf(x);
    const { pixels: N, channels: C } = layout;
    const dx = backend.makeOutput([...x.shape], 'float32');
    const dgamma = backend.makeOutput([C], 'float32');
    const dbeta = backend.makeOutput([C], 'float32');
    const work = scratch(backend, C, 2, 3);
    const passes = passesFor(backend, layout);
    const { f64: [sumDy, sumDyDev], f32: [scale, shift, dyScale] } = work.views();
    passes.gradientSums(x, dy, mean, sumDy!, sumDyDev!);
    const [g, v, dg, db] = [gamma, variance, dgamma, dbeta].map((t) => float32Vector(backend, t)) as Float32Array[];
    for (let c = 0; c < C; c++) {
      const sigma = Math.sqrt(v![c]! + epsilon);
      db![c] = sumDy![c]!;
      dg![c] = sumDyDev![c]! / sigma;
      dyScale![c] = g![c]! / sigma;
      shift![c] = (-g![c]! * sumDy![c]!) / (N * sigma);
      scale![c] = (-g![c]! * sumDyDev![c]!) / (N * sigma * sigma * sigma);
    }
    passes.apply(x, mean, scale!, shift!, dx, { dy, dyScale: dyScale! });
    backend.disposeData(work.buffer.dataId);
    return [dx, dgamma, dbeta];
  }) as unknown as KernelFunc;
}
