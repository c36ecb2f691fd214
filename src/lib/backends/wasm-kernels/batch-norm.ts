// FusedBatchNorm with per-channel (or scalar) parameters, as two 1×1 depthwise convolutions with bias on the
// wasm backend's own XNNPACK kernel: x + (−mean), then · scale/√(variance + ε) + offset. tfjs-backend-wasm
// 4.22's FusedBatchNorm walks each parameter with its own wrapping index per element: ~5–9 ms for a
// [16,32,32,72] activation against ~0.8 ms per depthwise pass, and a training step of MobileNetV3-Small runs
// it on every layer's output. A TypeScript loop was measured too: no faster than the builtin here.
// Centring first keeps float32 accuracy: folding the mean into the bias (one pass) would cancel
// catastrophically for channels whose mean is large against their spread.
// As from the wasm backend's own 1×1 convolutions (Conv2D and DepthwiseConv2dNative alike), a NaN comes out
// as −Infinity (measured; a 3×3 depthwise kernel keeps NaN): still non-finite, so a diverging run still
// fails on its loss, but not NaN.
import type { FusedBatchNormAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { input, type Fallback, type KernelArgs } from './kernels';

/** `out[…, c] = x[…, c] · filter[c] + bias[c]` for an NHWC `x` (the wasm backend's FusedDepthwiseConv2D, 1×1). */
export type ChannelAffine = (backend: BackendWasm, x: TensorInfo, filter: TensorInfo, bias: TensorInfo) => TensorInfo;

const size = (t: TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

// Below this many elements setting up two XNNPACK operators costs what the passes save (measured: a
// [16,8,8,144] activation was no faster, [16,8,8,240] 1.7× faster).
const MIN_SIZE = 200_000;

/** Per-channel values of a parameter holding one value per channel or one for all; `otherwise` when absent. */
function perChannel(backend: BackendWasm, t: TensorInfo | undefined, channels: number, otherwise: number): Float64Array {
  const out = new Float64Array(channels).fill(otherwise);
  if (!t) return out;
  const values = backend.typedArrayFromHeap(t) as Float32Array;
  for (let c = 0; c < channels; c++) out[c] = values[values.length === 1 ? 0 : c]!;
  return out;
}

/**
 * FusedBatchNorm for float32 tensors whose parameters have one value per channel (last axis) or a single
 * value; other layouts go to `fallback`.
 */
export function batchNormKernel(affine: ChannelAffine, fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const params = { mean: input(args.inputs, 'mean'), variance: input(args.inputs, 'variance'), offset: args.inputs['offset'], scale: args.inputs['scale'] };
    const channels = x.shape[x.shape.length - 1] ?? 0;
    const fits = (t: TensorInfo | undefined) => !t || (t.dtype === 'float32' && (size(t) === 1 || size(t) === channels));
    if (x.dtype !== 'float32' || channels === 0 || size(x) < MIN_SIZE || !Object.values(params).every(fits)) return fallback(args);
    const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
    const epsilon = varianceEpsilon ?? 0.001;

    const mean = perChannel(backend, params.mean, channels, 0);
    const variance = perChannel(backend, params.variance, channels, 0);
    const scale = perChannel(backend, params.scale, channels, 1);
    const offset = perChannel(backend, params.offset, channels, 0);
    const vector = (values: ArrayLike<number>, shape: number[]) => {
      const t = backend.makeOutput(shape, 'float32');
      (backend.typedArrayFromHeap(t) as Float32Array).set(values);
      return t;
    };
    const ones = vector(new Float32Array(channels).fill(1), [1, 1, channels, 1]);
    const negMean = vector(mean.map((m) => -m), [channels]);
    const factor = vector(
      scale.map((s, c) => s / Math.sqrt(variance[c]! + epsilon)),
      [1, 1, channels, 1],
    );
    const shift = vector(offset, [channels]);
    const rows: TensorInfo = { dataId: x.dataId, shape: [1, 1, size(x) / channels, channels], dtype: 'float32' };
    const centred = affine(backend, rows, ones, negMean);
    const out = affine(backend, centred, factor, shift);
    for (const t of [ones, negMean, factor, shift, centred]) backend.disposeData(t.dataId);
    return { dataId: out.dataId, shape: [...x.shape], dtype: 'float32' };
  }) as unknown as KernelFunc;
}
