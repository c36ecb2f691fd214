// Slice and PadV2 as copies of contiguous runs inside the wasm heap. tfjs-backend-wasm 4.22's Slice first
// copies the whole input out of the heap (`readSync`), then copies the window one innermost row at a time
// through a new subarray per row: ~8 ms to crop a [16,66,66,16] gradient back to 64×64, which the gradient
// of every torch-style padded convolution does. Its PadV2 is slow for few channels (the 3-channel image
// pad of the stems). Both become one `copyWithin` (a memmove) per run of elements that stays contiguous.
import { slice_util, type KernelFunc, type PadV2Attrs, type SliceAttrs, type TensorInfo } from '@tensorflow/tfjs';
import { input, type Fallback, type KernelArgs } from './kernels';

type Elements = Float32Array | Int32Array | Uint8Array;

const strides = (shape: readonly number[]) => {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
};

/**
 * Copies `count` runs of `run` elements inside one heap view: run `i` (row-major over `outer`, the sizes
 * of the axes before the run) goes from `source(index)` to `target(index)`. Short runs are copied by hand.
 */
function copyRuns(heap: Elements, outer: readonly number[], run: number, source: (index: number[]) => number, target: (index: number[]) => number): void {
  const count = outer.reduce((p, d) => p * d, 1);
  const index = new Array<number>(outer.length).fill(0);
  for (let r = 0; r < count; r++) {
    const from = source(index);
    const to = target(index);
    if (run >= 16) heap.copyWithin(to, from, from + run);
    else for (let i = 0; i < run; i++) heap[to + i] = heap[from + i]!;
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
    const base = xAt + start.reduce((sum, b, j) => sum + b * xStrides[j]!, 0);
    let written = outAt;
    copyRuns(heap, outer, run, (index) => index.reduce((sum, i, j) => sum + i * xStrides[j]!, base), () => {
      const to = written;
      written += run;
      return to;
    });
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
    outValues.fill(constantValue);
    // The run: the innermost padded axis, with every (unpadded) axis inside it.
    let k = rank - 1;
    while (k > 0 && paddings[k]![0] === 0 && paddings[k]![1] === 0) k--;
    const xStrides = strides(x.shape);
    const outStrides = strides(outShape);
    const run = x.shape[k]! * xStrides[k]!;
    const { heap, at: xAt } = heapOf(backend, x);
    const outAt = heapOf(backend, out).at;
    const base = outAt + paddings.reduce((sum, [before], j) => sum + before * outStrides[j]!, 0);
    let read = xAt;
    copyRuns(
      heap,
      x.shape.slice(0, k),
      run,
      () => {
        const from = read;
        read += run;
        return from;
      },
      (index) => index.reduce((sum, i, j) => sum + i * outStrides[j]!, base),
    );
    return out;
  }) as unknown as KernelFunc;
}
