import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { transpose } from './im2col';
import { simdKernels, type SimdKernels } from './simd/module';

// Tensors in the wasm backend's heap, as Loupe's kernels allocate, view and free them.

// Wasm heap views are taken only after every allocation of a kernel: malloc can grow the heap, which
// detaches earlier views (they would then read as empty and yield NaN).
export function heap(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

export function temp(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function free(backend: BackendWasm, t: TensorInfo): void {
  backend.disposeData(t.dataId);
}

/** A tensor's byte offset in the wasm heap (what the SIMD kernels take as a pointer). */
export function pointer(backend: BackendWasm, t: TensorInfo): number {
  return heap(backend, t).byteOffset;
}

/**
 * Zeroes `view` (a view of the wasm heap) with wasm's memory.fill where Loupe's SIMD kernels run: on tfjs's
 * threaded build the heap is a SharedArrayBuffer, whose typed arrays V8 fills element by element (4× slower
 * than memory.fill: ~0.3 ms a million floats).
 */
export function zeroFill(backend: BackendWasm, view: Float32Array | Float64Array): void {
  const kernels = simdKernels(backend);
  if (kernels) kernels.zero_bytes(view.byteOffset, view.byteLength);
  else view.fill(0);
}

/** A temporary tensor of `shape`, zero-filled. */
export function zeroed(backend: BackendWasm, shape: number[]): TensorInfo {
  const t = temp(backend, shape);
  zeroFill(backend, heap(backend, t));
  return t;
}

/** dst = srcᵀ for src a rows × cols matrix: the SIMD kernel where both are multiples of 4, else TypeScript. */
export function transposeInto(backend: BackendWasm, kernels: SimdKernels, src: TensorInfo, rows: number, cols: number, dst: TensorInfo): void {
  if (rows % 4 === 0 && cols % 4 === 0) kernels.transpose(pointer(backend, src), pointer(backend, dst), rows, cols);
  else transpose(heap(backend, src), 0, rows, cols, heap(backend, dst));
}
