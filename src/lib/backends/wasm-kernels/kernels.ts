import {
  backend_util,
  type Conv2DAttrs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type DepthwiseConv2dNativeAttrs,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type FusedConv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type MeanAttrs,
  type SumAttrs,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dFilterGradJs, conv2dInputGradJs, imagesPerChunk, zeroedAccumulator } from './conv2d';
import { depthwiseFilterGrad, depthwiseInputGrad } from './depthwise';
import { geometryOf, isPointwise, type ConvGeometry } from './geometry';
import { col2im, im2col, im2colTransposed, transpose } from './im2col';
import { reduceMiddle } from './layout';
import { free, heap, pointer, temp, transposeInto, zeroed, zeroFill } from './heap';
import { maxPoolGrad } from './pool';
import { gemmHelperCount, simdKernels, type SimdKernels } from './simd/module';
import { convArgs } from './gemm-helpers';
import { winogradApplies, winogradFilterGrad, winogradForward, winogradInputGrad } from './winograd';

/**
 * Where the conv2d gradients do their multiply-adds:
 * - `xnnpack`: the layout work (im2col, transposes, col2im) in TypeScript straight in the wasm heap, the
 *   GEMM in the wasm backend's own BatchMatMul (XNNPACK, SIMD) — fastest;
 * - `js`: everything in TypeScript (register-blocked GEMM over Float32Arrays).
 */
export type GemmEngine = 'xnnpack' | 'js';

/**
 * Where Conv2D's forward pass and input gradient multiply: Loupe's GEMM (simd/gemm.wat), XNNPACK's, or
 * `auto`: Loupe's where helper threads share it (gemm-helpers.ts), else XNNPACK's (threaded itself).
 */
export type ConvolutionGemm = 'loupe' | 'xnnpack' | 'auto';

/** Loupe's SIMD kernels when this call of a forward or input-gradient convolution should use its GEMM. */
function convolutionKernels(choice: ConvolutionGemm, backend: BackendWasm): SimdKernels | null {
  if (choice === 'xnnpack' || (choice === 'auto' && gemmHelperCount(backend) === 0)) return null;
  return simdKernels(backend);
}

/**
 * `loupe` while Loupe's convolution path runs (see convolutionKernels), `otherwise` else: decided per call,
 * since the helper threads start after the kernels are registered.
 */
export function whileLoupeConvolves(choice: ConvolutionGemm, loupe: KernelFunc, otherwise: KernelFunc): KernelFunc {
  if (choice === 'xnnpack') return otherwise;
  return ((args: KernelArgs) => (convolutionKernels(choice, args.backend) ? loupe : otherwise)(args as never)) as unknown as KernelFunc;
}

/** What a kernel does when it meets a case it does not handle (NCHW, non-float32). */
export type Fallback = (args: KernelArgs) => TensorInfo;

export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: NamedAttrMap;
}

/** The wasm backend's plain `a · b` (no transposes: tfjs-backend-wasm 4.22 runs only that case on XNNPACK). */
export type MatMul = (backend: BackendWasm, a: TensorInfo, b: TensorInfo) => TensorInfo;

export function input(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`missing input '${name}'`);
  return t;
}

/** A float32 tensor holding rows [start, end) of a row-major matrix `t` with `width` columns. */
function rowsOf(backend: BackendWasm, t: TensorInfo, start: number, end: number, width: number): TensorInfo {
  const out = temp(backend, [end - start, width]);
  heap(backend, out).set(heap(backend, t).subarray(start * width, end * width));
  return out;
}

function asMatrix(t: TensorInfo, rows: number, cols: number): TensorInfo {
  return { dataId: t.dataId, shape: [rows, cols], dtype: t.dtype };
}

/** `dst[c·rows + r] (+)= src[r·cols + c]`. */
function transposeAdd(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r]! += src[s + c]!;
  }
}

function isNhwcFloat(info: backend_util.Conv2DInfo, ...tensors: TensorInfo[]): boolean {
  return info.dataFormat === 'channelsLast' && tensors.every((t) => t.dtype === 'float32');
}

// ---------------------------------------------------------------------------------------------------
// Conv2DBackpropFilter: dW (K × outC) = im2col(x)ᵀ · dy

function conv2dFilterGradXnnpack(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, filterShape: number[], matMul: MatMul): TensorInfo {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const perImage = g.outH * g.outW;
  const pointwise = isPointwise(g);
  // Transpose whichever operand is narrower: col (K columns) or dy (N columns).
  const transposeCol = K <= N;
  const step = imagesPerChunk(g, K + N);
  let out: TensorInfo | undefined;
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const b1 = Math.min(g.batch, b0 + step);
    const rows = (b1 - b0) * perImage;
    const whole = b0 === 0 && b1 === g.batch;
    let product: TensorInfo;
    if (transposeCol) {
      // dW = colᵀ · dy: the transposed im2col is built straight in the heap; dy is used in place.
      const colT = temp(backend, [K, rows]);
      if (pointwise) transpose(heap(backend, x), b0 * perImage * K, rows, K, heap(backend, colT));
      else im2colTransposed(heap(backend, x), g, b0, b1, heap(backend, colT));
      const dyRows = whole ? asMatrix(dy, rows, N) : rowsOf(backend, dy, b0 * perImage, b0 * perImage + rows, N);
      product = matMul(backend, colT, dyRows);
      free(backend, colT);
      if (!whole) free(backend, dyRows);
      if (whole) return { dataId: product.dataId, shape: filterShape, dtype: 'float32' };
      out ??= zeroed(backend, filterShape);
      const acc = heap(backend, out);
      const part = heap(backend, product);
      for (let i = 0; i < K * N; i++) acc[i]! += part[i]!;
    } else {
      // dWᵀ = dyᵀ · col: for a pointwise conv, col is x itself.
      const dyT = temp(backend, [N, rows]);
      transpose(heap(backend, dy), b0 * perImage * N, rows, N, heap(backend, dyT));
      let col: TensorInfo;
      if (pointwise) col = whole ? asMatrix(x, rows, K) : rowsOf(backend, x, b0 * perImage, b0 * perImage + rows, K);
      else {
        col = temp(backend, [rows, K]);
        im2col(heap(backend, x), g, b0, b1, heap(backend, col));
      }
      product = matMul(backend, dyT, col);
      free(backend, dyT);
      if (!(pointwise && whole)) free(backend, col);
      out ??= zeroed(backend, filterShape);
      transposeAdd(heap(backend, product), N, K, heap(backend, out));
    }
    free(backend, product);
  }
  if (!out) throw new Error('conv2dBackpropFilter: empty batch');
  return out;
}

/**
 * dW = im2col(x)ᵀ · dy on the SIMD GEMM (simd/gemm.wat): x and dy used in place for a 1×1 convolution;
 * otherwise im2col in chunks with K padded to a multiple of 4 (zero columns), summed into a padded dW.
 */
function conv2dFilterGradSimd(backend: BackendWasm, kernels: SimdKernels, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, filterShape: number[]): TensorInfo {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const perImage = g.outH * g.outW;
  if (isPointwise(g) && K % 4 === 0) {
    const out = zeroed(backend, filterShape);
    kernels.gemm_atb(pointer(backend, x), K, pointer(backend, dy), N, g.batch * perImage, K, N, pointer(backend, out));
    return out;
  }
  const paddedK = Math.ceil(K / 4) * 4;
  const step = imagesPerChunk(g, paddedK);
  const sum = zeroed(backend, [paddedK * N]);
  const col = temp(backend, [step * perImage * paddedK]);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const b1 = Math.min(g.batch, b0 + step);
    kernels.im2col(pointer(backend, x), pointer(backend, col), paddedK, b0 * perImage, b1 * perImage, ...convArgs(g));
    kernels.gemm_atb(pointer(backend, col), paddedK, pointer(backend, dy) + b0 * perImage * N * 4, N, (b1 - b0) * perImage, paddedK, N, pointer(backend, sum));
  }
  free(backend, col);
  const out = temp(backend, filterShape);
  heap(backend, out).set(heap(backend, sum).subarray(0, K * N));
  free(backend, sum);
  return out;
}

/**
 * `n` zeroed float64 accumulators in a temporary heap buffer (the SIMD kernels sum into them; free `buffer`
 * after reading `sums`). Take it after the kernel's other allocations: the view detaches if the heap grows.
 */
function heapAccumulators(backend: BackendWasm, n: number): { buffer: TensorInfo; sums: Float64Array } {
  const buffer = temp(backend, [2 * n]);
  const sums = new Float64Array(heap(backend, buffer).buffer, pointer(backend, buffer), n);
  zeroFill(backend, sums);
  return { buffer, sums };
}

export function conv2dBackpropFilterKernel(gemm: GemmEngine, matMul: MatMul, fallback: Fallback, simd: boolean, choice: ConvolutionGemm = 'xnnpack'): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const dy = input(args.inputs, 'dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    if (!isNhwcFloat(info, x, dy)) return fallback(args);
    const g = geometryOf(info);
    const convolution = convolutionKernels(choice, backend);
    if (convolution && winogradApplies(g, 'filter')) return winogradFilterGrad(backend, convolution, x, dy, g, info.filterShape);
    const kernels = simd && gemm === 'xnnpack' ? simdKernels(backend) : null;
    if (kernels && g.outC % 4 === 0) return conv2dFilterGradSimd(backend, kernels, x, dy, g, info.filterShape);
    if (gemm === 'xnnpack') return conv2dFilterGradXnnpack(backend, x, dy, g, info.filterShape, matMul);
    const out = temp(backend, info.filterShape);
    conv2dFilterGradJs(heap(backend, x), heap(backend, dy), g, heap(backend, out));
    return out;
  }) as unknown as KernelFunc;
}

// ---------------------------------------------------------------------------------------------------
// Conv2DBackpropInput: dx = col2im(dy · Wᵀ)

function conv2dInputGradXnnpack(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry, inShape: number[], matMul: MatMul): TensorInfo {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const perImage = g.outH * g.outW;
  const filterT = temp(backend, [N, K]);
  transpose(heap(backend, filter), 0, K, N, heap(backend, filterT));
  if (isPointwise(g)) {
    const dx = matMul(backend, asMatrix(dy, g.batch * perImage, N), filterT);
    free(backend, filterT);
    return { dataId: dx.dataId, shape: inShape, dtype: 'float32' };
  }
  const dx = zeroed(backend, inShape);
  const step = imagesPerChunk(g, K + N);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const b1 = Math.min(g.batch, b0 + step);
    const rows = (b1 - b0) * perImage;
    const whole = b0 === 0 && b1 === g.batch;
    const dyRows = whole ? asMatrix(dy, rows, N) : rowsOf(backend, dy, b0 * perImage, b0 * perImage + rows, N);
    const dcol = matMul(backend, dyRows, filterT);
    if (!whole) free(backend, dyRows);
    col2im(heap(backend, dcol), g, b0, b1, heap(backend, dx));
    free(backend, dcol);
  }
  free(backend, filterT);
  return dx;
}

/**
 * dx = col2im(dy · Wᵀ) on Loupe's GEMM (simd/gemm.wat `gemm_ab`, one fused multiply-add per step where
 * relaxed SIMD runs): dy read where it lies, Wᵀ transposed once; a 1×1 convolution writes dx directly.
 */
function conv2dInputGradSimd(backend: BackendWasm, kernels: SimdKernels, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry, inShape: number[]): TensorInfo {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const perImage = g.outH * g.outW;
  const filterT = temp(backend, [N, K]);
  transposeInto(backend, kernels, filter, K, N, filterT);
  const dx = temp(backend, inShape);
  if (isPointwise(g)) {
    kernels.gemm_ab(pointer(backend, dy), N, pointer(backend, filterT), K, pointer(backend, dx), K, g.batch * perImage, N, K);
    free(backend, filterT);
    return dx;
  }
  const step = imagesPerChunk(g, K);
  const dcol = temp(backend, [step * perImage * K]);
  zeroFill(backend, heap(backend, dx));
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const b1 = Math.min(g.batch, b0 + step);
    kernels.gemm_ab(pointer(backend, dy) + b0 * perImage * N * 4, N, pointer(backend, filterT), K, pointer(backend, dcol), K, (b1 - b0) * perImage, N, K);
    kernels.col2im(pointer(backend, dcol), pointer(backend, dx), b0, b1, ...convArgs(g));
  }
  free(backend, dcol);
  free(backend, filterT);
  return dx;
}

/** y = im2col(x) · W on Loupe's GEMM: x itself for a 1×1 convolution, else im2col in chunks. */
function conv2dForwardSimd(backend: BackendWasm, kernels: SimdKernels, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, outShape: number[]): TensorInfo {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const perImage = g.outH * g.outW;
  const y = temp(backend, outShape);
  if (isPointwise(g)) {
    kernels.gemm_ab(pointer(backend, x), K, pointer(backend, filter), N, pointer(backend, y), N, g.batch * perImage, K, N);
    return y;
  }
  const step = imagesPerChunk(g, K);
  const col = temp(backend, [step * perImage * K]);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const b1 = Math.min(g.batch, b0 + step);
    kernels.im2col(pointer(backend, x), pointer(backend, col), K, b0 * perImage, b1 * perImage, ...convArgs(g));
    kernels.gemm_ab(pointer(backend, col), K, pointer(backend, filter), N, pointer(backend, y) + b0 * perImage * N * 4, N, (b1 - b0) * perImage, K, N);
  }
  free(backend, col);
  return y;
}

/** Conv2D's output on Loupe's GEMM, or null where `choice` or the call (layout, dtype, channels) keeps it off Loupe's path. */
function loupeConv2d(args: KernelArgs, choice: ConvolutionGemm): TensorInfo | null {
  const { backend } = args;
  const x = input(args.inputs, 'x');
  const filter = input(args.inputs, 'filter');
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as Conv2DAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const kernels = convolutionKernels(choice, backend);
  if (!kernels || !isNhwcFloat(info, x, filter) || info.outChannels % 4 !== 0) return null;
  const g = geometryOf(info);
  if (winogradApplies(g, 'data')) return winogradForward(backend, kernels, x, filter, g, info.outShape);
  return conv2dForwardSimd(backend, kernels, x, filter, g, info.outShape);
}

/** Conv2D (no bias or activation: what LoupeConv2D calls) on Loupe's GEMM when `choice` says so; the backend's XNNPACK kernel otherwise. */
export function conv2dKernel(fallback: Fallback, choice: ConvolutionGemm): KernelFunc {
  return ((args: KernelArgs) => loupeConv2d(args, choice) ?? fallback(args)) as unknown as KernelFunc;
}

/**
 * FusedConv2D with a bias and no activation (a squeeze-and-excite block's 1×1 convolutions, any Conv2D
 * layer with a bias): Loupe's Conv2D, then the bias added in place. The backend's kernel repacks a
 * filter for XNNPACK whenever it is a new tensor, which training makes it every step: ~0.4 ms for a
 * 576→144 convolution of 16 pixels, 3× its gradients. Other activations go to the backend's kernel.
 */
export function fusedConv2dKernel(fallback: Fallback, choice: ConvolutionGemm): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const { bias, preluActivationWeights } = args.inputs;
    const { activation } = args.attrs as unknown as FusedConv2DAttrs;
    const kernels = simdKernels(backend);
    const outC = input(args.inputs, 'filter').shape[3]!;
    const plainBias = !bias || (bias.dtype === 'float32' && util.sizeFromShape(bias.shape) === outC && bias.shape.at(-1) === outC);
    if (!kernels || activation !== 'linear' || preluActivationWeights || !plainBias) return fallback(args);
    const y = loupeConv2d(args, choice);
    if (!y) return fallback(args);
    if (bias) kernels.add_channels(pointer(backend, y), pointer(backend, bias), pointer(backend, y), 1, util.sizeFromShape(y.shape) / outC, outC, 0);
    return y;
  }) as unknown as KernelFunc;
}

export function conv2dBackpropInputKernel(gemm: GemmEngine, matMul: MatMul, fallback: Fallback, choice: ConvolutionGemm = 'xnnpack'): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const dy = input(args.inputs, 'dy');
    const filter = input(args.inputs, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    if (!isNhwcFloat(info, dy, filter)) return fallback(args);
    const g = geometryOf(info);
    const kernels = convolutionKernels(choice, backend);
    if (kernels && winogradApplies(g, 'data')) return winogradInputGrad(backend, kernels, dy, filter, g, info.inShape);
    if (kernels && (g.filterH * g.filterW * g.inC) % 4 === 0) return conv2dInputGradSimd(backend, kernels, dy, filter, g, info.inShape);
    if (gemm === 'xnnpack') return conv2dInputGradXnnpack(backend, dy, filter, g, info.inShape, matMul);
    const out = temp(backend, info.inShape);
    conv2dInputGradJs(heap(backend, dy), heap(backend, filter), g, heap(backend, out));
    return out;
  }) as unknown as KernelFunc;
}

// ---------------------------------------------------------------------------------------------------
// Depthwise convolutions (SIMD kernels, simd/depthwise.wat; TypeScript loops, depthwise.ts, for the rest
// of the gradients, XNNPACK for the rest of the forward passes)

/**
 * DepthwiseConv2dNative on Loupe's SIMD kernel, its images divided among the helper threads, while Loupe's
 * convolution path runs (channel multiplier 1, channels a multiple of 4); XNNPACK's otherwise. XNNPACK's
 * ran MobileNetV3-Small's layers at 0.9–5.8 GMAC/s on two threads in a training step (docs/benchmarks.md).
 */
export function depthwiseForwardKernel(fallback: Fallback, choice: ConvolutionGemm): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const filter = input(args.inputs, 'filter');
    const { strides, pad, dilations, dimRoundingMode, dataFormat } = args.attrs as unknown as DepthwiseConv2dNativeAttrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      strides,
      dilations ?? 1, // tfjs-layers passes null for the default
      pad,
      dimRoundingMode,
      true,
      backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC'),
    );
    const kernels = convolutionKernels(choice, backend);
    if (!kernels || !isNhwcFloat(info, x, filter) || info.outChannels !== info.inChannels || info.inChannels % 4 !== 0) return fallback(args);
    const g = geometryOf(info);
    const y = temp(backend, info.outShape);
    kernels.depthwise_forward(pointer(backend, x), pointer(backend, filter), pointer(backend, y), g.batch, ...convArgs(g));
    return y;
  }) as unknown as KernelFunc;
}

/** Groups of images a depthwise filter gradient sums apart (at most; fixed by the batch, not the threads). */
const DEPTHWISE_FILTER_GROUPS = 8;

export function depthwiseBackpropFilterKernel(fallback: Fallback, simd: boolean): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const dy = input(args.inputs, 'dy');
    const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    if (!isNhwcFloat(info, x, dy)) return fallback(args);
    const g = geometryOf(info);
    const size = info.filterShape.reduce((a, b) => a * b, 1);
    const out = temp(backend, info.filterShape);
    const kernels = simd ? simdKernels(backend) : null;
    if (kernels && g.outC === g.inC && g.inC % 4 === 0) {
      // Summed in doubles by the SIMD kernel, a set per group of images (threads take whole groups), then
      // the groups in order, rounded once.
      const groupImages = Math.ceil(g.batch / Math.min(g.batch, DEPTHWISE_FILTER_GROUPS));
      const groups = Math.ceil(g.batch / groupImages);
      const acc = heapAccumulators(backend, size * groups);
      kernels.depthwise_filter_grad(pointer(backend, x), pointer(backend, dy), acc.sums.byteOffset, g.batch, ...convArgs(g), groupImages, size * 8);
      kernels.sum_groups(acc.sums.byteOffset, groups, size, pointer(backend, out));
      free(backend, acc.buffer);
      return out;
    }
    const acc = zeroedAccumulator(size);
    depthwiseFilterGrad(heap(backend, x), heap(backend, dy), g, acc);
    const dW = heap(backend, out);
    for (let i = 0; i < size; i++) dW[i] = acc[i]!;
    return out;
  }) as unknown as KernelFunc;
}

export function depthwiseBackpropInputKernel(fallback: Fallback, simd: boolean): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const dy = input(args.inputs, 'dy');
    const filter = input(args.inputs, 'filter');
    const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    if (!isNhwcFloat(info, dy, filter)) return fallback(args);
    const g = geometryOf(info);
    const out = temp(backend, info.inShape);
    const kernels = simd ? simdKernels(backend) : null;
    if (kernels && g.outC === g.inC && g.inC % 4 === 0) {
      kernels.depthwise_input_grad(pointer(backend, dy), pointer(backend, filter), pointer(backend, out), g.batch, ...convArgs(g));
    } else {
      heap(backend, out).fill(0);
      depthwiseInputGrad(heap(backend, dy), heap(backend, filter), g, heap(backend, out));
    }
    return out;
  }) as unknown as KernelFunc;
}

// ---------------------------------------------------------------------------------------------------
// MaxPoolGrad (see pool.ts for why we replace the wasm backend's): SIMD (simd/pool.wat) for channels a
// multiple of 4, the TypeScript loop for the rest; both give the same bits.

export function maxPoolGradKernel(fallback: Fallback, simd: boolean): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const dy = input(args.inputs, 'dy');
    const x = input(args.inputs, 'input');
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (!isNhwcFloat(info, x, dy)) return fallback(args);
    const out = temp(backend, x.shape);
    const dx = heap(backend, out);
    zeroFill(backend, dx);
    const kernels = simd && info.inChannels % 4 === 0 ? simdKernels(backend) : null;
    if (kernels) {
      const g = geometryOf(info);
      kernels.max_pool_grad(
        pointer(backend, x), pointer(backend, dy), dx.byteOffset,
        g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.filterH, g.filterW,
        g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft,
      );
    } else {
      maxPoolGrad(heap(backend, x), heap(backend, dy), info, dx);
    }
    return out;
  }) as unknown as KernelFunc;
}

// ---------------------------------------------------------------------------------------------------
// Tile, Sum, Mean (see layout.ts): ours for the layouts BatchNorm training produces, the wasm backend's
// own kernel for the rest.

const setUp = new WeakMap<KernelConfig, WeakSet<object>>();

/**
 * Calls a wasm kernel we replaced. tfjs binds a kernel's wasm function in its setup, which it runs only
 * for kernels registered when the backend is set, so a replaced one is set up here on first use.
 */
export function builtin(config: KernelConfig): Fallback {
  return (args: KernelArgs) => {
    let done = setUp.get(config);
    if (!done) setUp.set(config, (done = new WeakSet()));
    if (!done.has(args.backend)) {
      config.setupFunc?.(args.backend);
      done.add(args.backend);
    }
    return config.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  };
}

export function reductionKernel(kind: 'Sum' | 'Mean', fallback: Fallback, simd: boolean): KernelFunc {
  return ((args: KernelArgs) => {
    const { backend } = args;
    const x = input(args.inputs, 'x');
    const { axis, keepDims } = args.attrs as unknown as SumAttrs | MeanAttrs;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const first = axes[0];
    const last = axes[axes.length - 1];
    // Only a contiguous block of axes that is not innermost: there tfjs-backend-wasm transposes first.
    if (x.dtype !== 'float32' || first === undefined || last === undefined || last - first + 1 !== axes.length) return fallback(args);
    const outer = x.shape.slice(0, first).reduce((a, b) => a * b, 1);
    const middle = x.shape.slice(first, last + 1).reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(last + 1).reduce((a, b) => a * b, 1);
    if (inner === 1 || middle === 0) return fallback(args);
    const shape = keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : [...x.shape.slice(0, first), ...x.shape.slice(last + 1)];
    const out = temp(backend, shape);
    const scale = kind === 'Mean' ? 1 / middle : 1;
    // Short columns (a global pool's 16 pixels) sum faster in TypeScript than through the double accumulators.
    const kernels = simd && inner % 4 === 0 && middle >= 32 ? simdKernels(backend) : null;
    if (kernels) {
      const { buffer, sums } = heapAccumulators(backend, outer * inner);
      kernels.sum_middle(pointer(backend, x), sums.byteOffset, outer, middle, inner);
      const dst = heap(backend, out);
      for (let i = 0; i < outer * inner; i++) dst[i] = sums[i]! * scale;
      free(backend, buffer);
    } else {
      reduceMiddle(heap(backend, x), outer, middle, inner, scale, heap(backend, out));
    }
    return out;
  }) as unknown as KernelFunc;
}

export type { KernelConfig };
