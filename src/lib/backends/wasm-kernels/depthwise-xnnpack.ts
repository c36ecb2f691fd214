// The input gradient of a stride-1 depthwise convolution as a forward depthwise convolution on the wasm
// backend's XNNPACK kernel (SIMD): dx is the correlation of dy with the filter turned 180°, padded so that
// every tap that touched an input row reaches it back. Our TypeScript loops (depthwise.ts) run at
// ~1 GFLOP/s, XNNPACK's forward at ~4; the stride-1 layers of MobileNetV3-Small (5×5 on up to 576
// channels) were ~110 ms of a 128², batch-16 training step. Strided, dilated and multiplier > 1 cases
// stay on the TypeScript kernel (a strided one would need a zero-dilated dy: 4× the work). A NaN in dy
// stays NaN, except through a 1×1 filter, where XNNPACK's kernel (as in the wasm backend's own 1×1
// convolutions) turns it into −Infinity: non-finite either way.
import { backend_util, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { input, type Fallback, type KernelArgs } from './kernels';

/** A forward depthwise convolution, stride 1, of NHWC `x` with explicit [[0,0],[top,bottom],[left,right],[0,0]] padding. */
export type DepthwiseForward = (backend: BackendWasm, x: TensorInfo, filter: TensorInfo, pad: [[0, 0], [number, number], [number, number], [0, 0]]) => TensorInfo;

/** `out[fh−1−i][fw−1−j][c] = filter[i][j][c]` for a [fh, fw, C, 1] filter. */
export function rotateFilter(filter: Float32Array, fh: number, fw: number, channels: number, out: Float32Array): void {
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const from = (i * fw + j) * channels;
      const to = ((fh - 1 - i) * fw + (fw - 1 - j)) * channels;
      out.set(filter.subarray(from, from + channels), to);
    }
  }
}

/**
 * DepthwiseConv2dNativeBackpropInput through `forward` for float32, stride 1, dilation 1, channel
 * multiplier 1; everything else goes to `fallback` (the TypeScript kernel).
 */
export function depthwiseInputGradKernel(forward: DepthwiseForward, fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const dy = input(args.inputs, 'dy');
    const filter = input(args.inputs, 'filter');
    const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
    const { filterHeight: fh, filterWidth: fw, inHeight, inWidth, outHeight, outWidth, inChannels } = info;
    const top = fh - 1 - info.padInfo.top;
    const left = fw - 1 - info.padInfo.left;
    const bottom = inHeight - outHeight - top + fh - 1;
    const right = inWidth - outWidth - left + fw - 1;
    const plain =
      dy.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      info.strideHeight === 1 &&
      info.strideWidth === 1 &&
      info.dilationHeight === 1 &&
      info.dilationWidth === 1 &&
      info.outChannels === inChannels &&
      Math.min(top, left, bottom, right) >= 0;
    if (!plain) return fallback(args);
    const rotated = backend.makeOutput([fh, fw, inChannels, 1], 'float32');
    rotateFilter(backend.typedArrayFromHeap(filter) as Float32Array, fh, fw, inChannels, backend.typedArrayFromHeap(rotated) as Float32Array);
    const dx = forward(backend, dy, rotated, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    backend.disposeData(rotated.dataId);
    return dx;
  }) as unknown as KernelFunc;
}
