// Slice and PadV2 as copies of contiguous runs inside the wasm heap. tfjs-backend-wasm 4.22's Slice first
// copies the whole input out of the heap (`readSync`), then copies the window one innermost row at a time
// through a new subarray per row: ~8 ms to crop a [16,66,66,16] gradient back to 64×64, which the gradient
// of every torch-style padded convolution does. Its PadV2 is slow for few channels (the 3-channel image
// pad of the stems). Both become one memmove per run of elements that stays contiguous: all of them in one
// call of simd/copy.wat for up to three axes outside the run (every NHWC tensor), else a copyWithin each.
// So does a Tile that only repeats size-1 axes (a broadcast); other tiles go to layout.ts's.
import { slice_util, type KernelFunc, type PadV2Attrs, type SliceAttrs, type TensorInfo, type TileAttrs } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { input, type Fallback, type KernelArgs } from './kernels';
import { tile } from './layout';
import { simdKernels } from './simd/module';

type Elements = Float32Array | Int32Array | Uint8Array;

const strides = (shape: readonly number[]) => {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
};

/**
 * Runs of `run` elements, one per index over `outer` (the sizes of the axes before the run, row-major),
 * from `from + Σ index·fromStrides` to `to + Σ index·toStrides` (in elements of the heap view).
 */
interface Runs {
  outer: readonly number[];
  run: number;
  from: number;
  fromStrides: readonly number[];
  to: number;
  toStrides: readonly number[];
}

/** Copies `runs` inside the heap: one call of copy.wat for up to three outer axes, else a loop (short runs by hand). */
function copyRuns(backend: BackendWasm, heap: Elements, runs: Runs): void {
  const { outer, run, from, fromStrides, to, toStrides } = runs;
  const kernels = outer.length <= 3 ? simdKernels(backend) : null;
  if (kernels) {
    const bytes = heap.BYTES_PER_ELEMENT;
    const padded = (values: readonly number[], fill: number) => [...new Array<number>(3 - values.length).fill(fill), ...values];
    const [fs, ts, counts] = [padded(fromStrides, 0), padded(toStrides, 0), padded(outer, 1)];
    kernels.copy_runs(from * bytes, fs[0]! * bytes, fs[1]! * bytes, fs[2]! * bytes, to * bytes, ts[0]! * bytes, ts[1]! * bytes, ts[2]! * bytes, counts[0]!, counts[1]!, counts[2]!, run * bytes);
    return;
  }
  const count = outer.reduce((p, d) => p * d, 1);
  const index = new Array<number>(outer.length).fill(0);
  for (let r = 0; r < count; r++) {
    const source = index.reduce((sum, i, j) => sum + i * fromStrides[j]!, from);
    const target = index.reduce((sum, i, j) => sum + i * toStrides[j]!, to);
    if (run >= 16) heap.copyWithin(target, source, source + run);
    else for (let i = 0; i < run; i++) heap[target + i] = heap[source + i]!;
    for (let j = outer.length - 1; j >= 0; j--) {
      if (++index[j]! < outer[j]!) break;
      index[j] = 0;
    }
  }
}

/** The whole wasm heap as elements of `t`'s type, and `t`'s first element's index in it. */
function heapOf(backend: KernelArgs['backend'], t: TensorInfo): { heap: Elements; at: number } {
  const view = backend.typedArrayFromHeap(t) as Elements;
  const Type = view.constructor as new (buffer: ArrayBufferLike) => Elements;
  return { heap: new Type(view.buffer), at: view.byteOffset / view.BYTES_PER_ELEMENT };
}

const copyable = (t: TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool';

/** Slice of a float32, int32 or bool tensor; strings go to `fallback`. */
export function sliceKernel(fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    if (!copyable(x)) return fallback(args);
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    const parsed = slice_util.parseSliceParams(x as Parameters<typeof slice_util.parseSliceParams>[0], begin, size);
    const start = parsed[0]!;
    const extent = parsed[1]!;
    const out = backend.makeOutput(extent, x.dtype);
    const rank = x.shape.length;
    if (extent.some((d) => d === 0)) return out;
    if (rank === 0) {
      (backend.typedArrayFromHeap(out) as Elements)[0] = (backend.typedArrayFromHeap(x) as Elements)[0]!;
      return out;
    }
    // The run: the innermost axis that is cut, with every axis inside it (complete).
    let k = rank - 1;
    while (k > 0 && start[k] === 0 && extent[k] === x.shape[k]) k--;
    const xStrides = strides(x.shape);
    const run = extent[k]! * xStrides[k]!;
    const outer = extent.slice(0, k);
    const { heap, at: xAt } = heapOf(backend, x);
    const outAt = heapOf(backend, out).at;
    const from = xAt + start.reduce((sum, b, j) => sum + b * xStrides[j]!, 0);
    copyRuns(backend, heap, { outer, run, from, fromStrides: xStrides.slice(0, k), to: outAt, toStrides: strides(extent).slice(0, k) });
    return out;
  }) as unknown as KernelFunc;
}

/** PadV2 (constant padding) of a float32 or int32 tensor; negative paddings and other dtypes go to `fallback`. */
export function padKernel(fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
    const rank = x.shape.length;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0 || paddings.length !== rank || paddings.some(([a, b]) => a < 0 || b < 0)) return fallback(args);
    if (x.shape.some((d) => d === 0)) return fallback(args); // the builtin fills these without reading x
    const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const out = backend.makeOutput(outShape, x.dtype);
    const outValues = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
    const kernels = constantValue === 0 && !Object.is(constantValue, -0) ? simdKernels(backend) : null;
    if (kernels) kernels.zero_bytes(outValues.byteOffset, outValues.byteLength);
    else outValues.fill(constantValue);
    // The run: the innermost padded axis, with every (unpadded) axis inside it.
    let k = rank - 1;
    while (k > 0 && paddings[k]![0] === 0 && paddings[k]![1] === 0) k--;
    const xStrides = strides(x.shape);
    const outStrides = strides(outShape);
    const run = x.shape[k]! * xStrides[k]!;
    const { heap, at: xAt } = heapOf(backend, x);
    const outAt = heapOf(backend, out).at;
    const to = outAt + paddings.reduce((sum, [before], j) => sum + before * outStrides[j]!, 0);
    copyRuns(backend, heap, { outer: x.shape.slice(0, k), run, from: xAt, fromStrides: xStrides.slice(0, k), to, toStrides: outStrides.slice(0, k) });
    return out;
  }) as unknown as KernelFunc;
}

/**
 * Tile of a float32, int32 or bool tensor. One that only repeats size-1 axes before the last (a broadcast:
 * Mean's gradient, [B,1,1,C] → [B,H,W,C]) copies x's rows as runs, a repeated axis reading its one row
 * again; any other goes to the TypeScript tile. Strings go to `fallback`.
 */
export function tileKernel(fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    if (!copyable(x)) return fallback(args);
    const { reps } = args.attrs as unknown as TileAttrs;
    const out = backend.makeOutput(
      x.shape.map((d, i) => d * reps[i]!),
      x.dtype,
    );
    const k = x.shape.length - 1;
    if (k >= 0 && reps[k] === 1 && x.shape.slice(0, k).every((d, j) => d === 1 || reps[j] === 1)) {
      // Views only after the output's allocation (it can grow the heap).
      const { heap, at: xAt } = heapOf(backend, x);
      const outAt = heapOf(backend, out).at;
      const fromStrides = strides(x.shape).slice(0, k).map((stride, j) => (x.shape[j] === 1 ? 0 : stride));
      copyRuns(backend, heap, { outer: out.shape.slice(0, k), run: x.shape[k]!, from: xAt, fromStrides, to: outAt, toStrides: strides(out.shape).slice(0, k) });
      return out;
    }
    tile(backend.typedArrayFromHeap(x) as Elements, x.shape, reps, backend.typedArrayFromHeap(out) as Elements);
    return out;
  }) as unknown as KernelFunc;
}
