// BatchNorm's training step (models/backbones/batch-norm.ts) as one kernel each way on the wasm backend.
// Forward: the batch mean and variance in one pass, as moments about a shift near the mean (the first rows'
// mean, so that Σd²/N − (Σd/N)² cancels nothing a two-pass variance keeps), then y = (x − mean)·γ/σ + β.
// Backward, with N values per channel, σ² = var + ε:
//   dβ = Σ dy,   dγ = Σ dy·(x − mean) / σ,   dx = γ/σ · dy − γ·dβ/(Nσ) − (x − mean)·γ·Σ dy·(x − mean)/(Nσ³)
// (the gradient through the batch statistics, which tfjs's composed ops reach through ~25 kernels): two
// passes. The activation after a BatchNorm (ReLU, hard-swish) can run inside both kernels: forward in the
// pass that normalizes, so BatchNorm's output is never written out nor kept for the backward pass, whose
// first pass recomputes it from x for the activation's gradient. The passes run on simd/batch-norm.wat
// when the channels are a multiple of 4, shared with the helper threads (the sums in fixed parts, the
// forward pass with an activation's arithmetic by rows), else in the TypeScript loops below; per-channel
// arithmetic in doubles.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SCALAR_ACTIVATIONS, type ChannelActivation } from './activations';
import { input, type KernelArgs } from './kernels';
import { simdKernels, type SimdKernels } from './simd/module';
import type { PartOp } from './gemm-helpers';

/**
 * The passes, on heap views of whole rows of C channels: on the SIMD kernels or in TypeScript. Sums are
 * added into zeroed doubles.
 */
interface Passes {
  /** Σ over x's rows. */
  sum(x: Float32Array, sums: Float64Array): void;
  /** Σ (x − shift) and Σ (x − shift)² over x's rows. */
  shiftedMoments(x: Float32Array, shift: Float32Array, sums: Float64Array, squares: Float64Array): void;
  /**
   * Σ dy and Σ dy·(x − mean), with dy = dz, or the activation's gradient at y = (x − mean)·scale + shift
   * given dz, then also written to `out`.
   */
  gradientSums(x: Float32Array, dz: Float32Array, mean: Float32Array, sumDy: Float64Array, sumDyDev: Float64Array, fused?: FusedGradient): void;
  /** out = (x − mean)·scale + shift + dy·dyScale (dy may be out). */
  apply(x: Float32Array, mean: Float32Array, scale: Float32Array, shift: Float32Array, out: Float32Array, dy: Float32Array, dyScale: Float32Array): void;
  /** out = activation((x − mean)·scale + shift), or without one. */
  forward(x: Float32Array, mean: Float32Array, scale: Float32Array, shift: Float32Array, out: Float32Array, activation?: ChannelActivation): void;
}

/** The activation inside a BatchNorm's gradient: its kind, the forward pass's γ/σ and β, and where dy goes. */
interface FusedGradient {
  activation: ChannelActivation;
  scale: Float32Array;
  shift: Float32Array;
  out: Float32Array;
}

/**
 * Parts of the SIMD sums (the moments, the gradient sums), fixed by the rows alone: at most 8, of whole
 * 32-row blocks, each into sums of its own, added in part order. So the sums are the same bits on any
 * number of helper threads.
 */
const SUM_PARTS = 8;

/** The activations' codes in simd/batch-norm.wat. */
const ACTIVATION_CODES: Record<ChannelActivation, number> = { relu: 1, hardswish: 2 };

function simdPasses(kernels: SimdKernels, C: number, partSums: Float64Array[]): Passes {
  const rows = (x: Float32Array) => x.length / C;
  const rowBytes = C * 4;
  /**
   * `op` over `pixels` rows in SUM_PARTS parts, `args(offset, rows, a, b)` giving a part's arguments (its
   * first byte past the start, its rows, its two sums), then the parts' sums added into `a` and `b` in order.
   */
  const inParts = (op: PartOp, pixels: number, a: Float64Array, b: Float64Array, args: (offset: number, rows: number, a: number, b: number) => number[]) => {
    const each = Math.max(SHIFT_ROWS, Math.ceil(pixels / SUM_PARTS / SHIFT_ROWS) * SHIFT_ROWS);
    const parts = Math.ceil(pixels / each);
    kernels.parts(
      op,
      Array.from({ length: parts }, (_, part) => args(part * each * rowBytes, Math.min(each, pixels - part * each), partSums[2 * part]!.byteOffset, partSums[2 * part + 1]!.byteOffset)),
    );
    for (let part = 0; part < parts; part++) {
      const [partA, partB] = [partSums[2 * part]!, partSums[2 * part + 1]!];
      for (let c = 0; c < C; c++) {
        a[c]! += partA[c]!;
        b[c]! += partB[c]!;
      }
    }
  };
  return {
    sum: (x, sums) => kernels.sum_middle(x.byteOffset, sums.byteOffset, 1, rows(x), C),
    shiftedMoments: (x, shift, sums, squares) =>
      inParts('bn_shifted_moments', rows(x), sums, squares, (offset, n, a, b) => [x.byteOffset + offset, shift.byteOffset, a, b, n, C]),
    gradientSums(x, dz, mean, sumDy, sumDyDev, fused) {
      const [scale, shift, out] = fused ? [fused.scale.byteOffset, fused.shift.byteOffset, fused.out.byteOffset] : [0, 0, 0];
      const act = fused ? ACTIVATION_CODES[fused.activation] : 0;
      inParts('bn_backward_sums', rows(x), sumDy, sumDyDev, (offset, n, a, b) => [
        x.byteOffset + offset, dz.byteOffset + offset, mean.byteOffset, scale, shift, fused ? out + offset : 0, a, b, n, C, act,
      ]);
    },
    apply: (x, mean, scale, shift, out, dy, dyScale) =>
      kernels.bn_apply(x.byteOffset, mean.byteOffset, scale.byteOffset, shift.byteOffset, dy.byteOffset, dyScale.byteOffset, out.byteOffset, rows(x), C),
    // Alone, the forward pass is bn_apply on the caller (memory-bound: no faster divided among threads);
    // with an activation's arithmetic, bn_forward divided by rows.
    forward: (x, mean, scale, shift, out, activation) =>
      activation
        ? kernels.bn_forward(x.byteOffset, mean.byteOffset, scale.byteOffset, shift.byteOffset, out.byteOffset, rows(x), C, ACTIVATION_CODES[activation])
        : kernels.bn_apply(x.byteOffset, mean.byteOffset, scale.byteOffset, shift.byteOffset, 0, 0, out.byteOffset, rows(x), C),
  };
}

function scalarPasses(C: number): Passes {
  const f32 = Math.fround;
  const normalized = (x: Float32Array, m: Float32Array, scale: Float32Array, shift: Float32Array, i: number) =>
    f32(f32(f32(x[i]! - m[i % C]!) * scale[i % C]!) + shift[i % C]!);
  return {
    sum(x, sums) {
      for (let i = 0; i < x.length; i++) sums[i % C]! += x[i]!;
    },
    shiftedMoments(x, shift, sums, squares) {
      for (let i = 0; i < x.length; i++) {
        const d = f32(x[i]! - shift[i % C]!);
        sums[i % C]! += d;
        squares[i % C]! += f32(d * d);
      }
    },
    gradientSums(x, dz, m, sumDy, sumDyDev, fused) {
      const gradient = fused ? SCALAR_ACTIVATIONS[fused.activation].gradient : undefined;
      for (let i = 0; i < x.length; i++) {
        const dy = gradient ? (fused!.out[i] = gradient(normalized(x, m, fused!.scale, fused!.shift, i), dz[i]!)) : dz[i]!;
        sumDy[i % C]! += dy;
        sumDyDev[i % C]! += f32(dy * f32(x[i]! - m[i % C]!));
      }
    },
    apply(x, m, scale, shift, out, dy, dyScale) {
      for (let i = 0; i < x.length; i++) out[i] = f32(normalized(x, m, scale, shift, i) + f32(dy[i]! * dyScale[i % C]!));
    },
    forward(x, m, scale, shift, out, activation) {
      const f = activation ? SCALAR_ACTIVATIONS[activation].forward : (v: number) => v;
      for (let i = 0; i < x.length; i++) out[i] = f(normalized(x, m, scale, shift, i));
    },
  };
}

/** Rows whose mean is the moments' shift: one SIMD block, a cheap estimate of the mean. */
const SHIFT_ROWS = 32;

interface Layout {
  pixels: number;
  channels: number;
}

function layoutOf(x: TensorInfo): Layout {
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const size = x.shape.reduce((a, b) => a * b, 1);
  return { pixels: channels === 0 ? 0 : size / channels, channels };
}

/** The passes for this layout; the sums' parts go to `partSums` (2 zeroed vectors a part, SUM_PARTS parts). */
function passesFor(backend: BackendWasm, layout: Layout, partSums: Float64Array[]): Passes {
  const kernels = layout.channels % 4 === 0 ? simdKernels(backend) : null;
  return kernels ? simdPasses(kernels, layout.channels, partSums) : scalarPasses(layout.channels);
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

/** The `activation` attr: none, or one of the activations BatchNorm's kernels apply after normalizing. */
function activationOf(name: string, attrs: unknown): ChannelActivation | undefined {
  const activation = (attrs as { activation?: unknown } | undefined)?.activation;
  if (activation === undefined || activation === 'linear') return undefined;
  if (activation === 'relu' || activation === 'hardswish') return activation;
  throw new Error(`${name}: unknown activation ${JSON.stringify(activation)} (expected 'relu' or 'hardswish')`);
}

/**
 * Forward: inputs x, gamma, beta, movingMean, movingVariance; attrs epsilon, momentum, activation (none,
 * 'relu' or 'hardswish', applied to y in the same pass); outputs y (activated), mean,
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
    const activation = activationOf(name, attrs);
    const layout = layoutOf(x);
    const { pixels: N, channels: C } = layout;
    const y = backend.makeOutput([...x.shape], 'float32');
    const mean = backend.makeOutput([C], 'float32');
    const variance = backend.makeOutput([C], 'float32');
    const moved = [backend.makeOutput([C], 'float32'), backend.makeOutput([C], 'float32')];
    const work = scratch(backend, C, 2 + 2 * SUM_PARTS, 2);
    const { f64: [sums, squares, ...partSums], f32: [shift, scale] } = work.views();
    const passes = passesFor(backend, layout, partSums);
    const [xs, ys] = [float32Vector(backend, x), float32Vector(backend, y)];
    const head = Math.min(SHIFT_ROWS, N);
    passes.sum(xs.subarray(0, head * C), sums!);
    for (let c = 0; c < C; c++) shift![c] = sums![c]! / head;
    sums!.fill(0);
    passes.shiftedMoments(xs, shift!, sums!, squares!);
    const [meanValues, varianceValues, g] = [mean, variance, gamma].map((t) => float32Vector(backend, t)) as [Float32Array, Float32Array, Float32Array];
    for (let c = 0; c < C; c++) {
      const offset = sums![c]! / N;
      meanValues[c] = shift![c]! + offset;
      varianceValues[c] = Math.max(0, squares![c]! / N - offset * offset);
      scale![c] = g[c]! / Math.sqrt(varianceValues[c]! + epsilon);
    }
    passes.forward(xs, meanValues, scale!, float32Vector(backend, beta), ys, activation);
    backend.disposeData(work.buffer.dataId);
    [[movingMean, meanValues], [movingVariance, varianceValues]].forEach(([moving, batch], i) => {
      const [v, b, out] = [float32Vector(backend, moving as TensorInfo), batch as Float32Array, float32Vector(backend, moved[i]!)];
      for (let c = 0; c < C; c++) out[c] = Math.fround(v[c]! - Math.fround(Math.fround(v[c]! - b[c]!) * decay));
    });
    return [y, mean, variance, ...moved];
  }) as unknown as KernelFunc;
}

/**
 * Gradient: inputs x, dy, gamma, mean, variance, and beta with an activation; attrs epsilon, activation (as
 * the forward kernel's: dy is then the activation's output gradient, and the BatchNorm output it needs is
 * recomputed from x); outputs dx, dgamma, dbeta.
 */
export function batchNormTrainingGradKernel(name: string): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const activation = activationOf(name, args.attrs);
    const inputs = ['x', 'dy', 'gamma', 'mean', 'variance', ...(activation ? ['beta'] : [])].map((n) => input(args.inputs, n));
    const [x, dy, gamma, mean, variance, beta] = inputs as [TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo | undefined];
    checkFloat32(name, inputs);
    const epsilon = Number((args.attrs as { epsilon?: number } | undefined)?.epsilon ?? 1e-3);
    const layout = layoutOf(x);
    const { pixels: N, channels: C } = layout;
    const dx = backend.makeOutput([...x.shape], 'float32');
    const dgamma = backend.makeOutput([C], 'float32');
    const dbeta = backend.makeOutput([C], 'float32');
    const work = scratch(backend, C, 2 + 2 * SUM_PARTS, 3);
    const { f64: [sumDy, sumDyDev, ...partSums], f32: [scale, shift, dyScale] } = work.views();
    const passes = passesFor(backend, layout, partSums);
    const [g, v, dg, db, m] = [gamma, variance, dgamma, dbeta, mean].map((t) => float32Vector(backend, t)) as Float32Array[] as [
      Float32Array, Float32Array, Float32Array, Float32Array, Float32Array,
    ];
    for (let c = 0; c < C; c++) dyScale![c] = g[c]! / Math.sqrt(v[c]! + epsilon);
    const [xs, dys, dxs] = [x, dy, dx].map((t) => float32Vector(backend, t)) as [Float32Array, Float32Array, Float32Array];
    // BatchNorm's own output gradient: dy itself, or the activation's gradient at the BatchNorm output,
    // recomputed from x (the forward kernel's bits: its scale is γ/σ, as dyScale here) and written to dx,
    // which the last pass then overwrites in place.
    const fused = activation ? { activation, scale: dyScale!, shift: float32Vector(backend, beta!), out: dxs } : undefined;
    passes.gradientSums(xs, dys, m, sumDy!, sumDyDev!, fused);
    for (let c = 0; c < C; c++) {
      const sigma = Math.sqrt(v[c]! + epsilon);
      db[c] = sumDy![c]!;
      dg[c] = sumDyDev![c]! / sigma;
      shift![c] = (-g[c]! * sumDy![c]!) / (N * sigma);
      scale![c] = (-g[c]! * sumDyDev![c]!) / (N * sigma * sigma * sigma);
    }
    passes.apply(xs, m, scale!, shift!, dxs, fused ? dxs : dys, dyScale!);
    backend.disposeData(work.buffer.dataId);
    return [dx, dgamma, dbeta];
  }) as unknown as KernelFunc;
}
