// Identity and same-dtype Cast without a copy. tfjs-backend-wasm 4.22 copies the whole tensor for both;
// tfjs's engine calls Identity (`clone`) on every tensor an op saves for its gradient (a dual
// MobileNetV3-Small step at 128², batch 16, copied 760 MiB that way and kept the copies until the backward
// pass), and gradients cast float32 masks to float32 again. Tensors are immutable in tfjs (variables take a
// new buffer on `assign`), so the output may share the input's buffer under a reference count, as the wasm
// backend's own Reshape and the cpu backend's Identity already do.
import type { CastAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { input, type Fallback, type KernelArgs } from './kernels';

function shared(args: KernelArgs, x: TensorInfo): TensorInfo {
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Identity that shares the input's wasm buffer (strings, kept outside the heap, go to `fallback`). */
export function identityKernel(fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const x = input(args.inputs, 'x');
    return x.dtype === 'string' ? fallback(args) : shared(args, x);
  }) as unknown as KernelFunc;
}

/** Cast to the dtype a tensor already has shares its buffer; a real conversion goes to `fallback`. */
export function castKernel(fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const x = input(args.inputs, 'x');
    const { dtype } = args.attrs as unknown as CastAttrs;
    return dtype === x.dtype && x.dtype !== 'string' && x.dtype !== 'complex64' ? shared(args, x) : fallback(args);
  }) as unknown as KernelFunc;
}
