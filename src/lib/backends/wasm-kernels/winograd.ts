import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { im2colBudget } from './conv2d';
import type { ConvGeometry } from './geometry';
import { atbChunk } from './gemm-helpers';
import { free, pointer, temp, transposeInto, zeroed } from './heap';
import type { SimdKernels } from './simd/module';

// Stride-1 3×3 convolutions by Winograd's minimal filtering, F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2016): each 4×4 tile of output pixels takes 36 multiplies per
// channel pair instead of 144. Their multiply-adds are 36 GEMMs, one per position ξ of the 6×6 transformed
// tile (M[ξ] = V[ξ]·U[ξ]), on Loupe's GEMM (and its helper threads); the transforms are simd/gemm.wat's
// `wino_*`. ResNet18 spends ~80 % of its multiply-adds in such layers, and on 4-wide wasm SIMD they are
// compute-bound: F(2×2, 3×3), 2.25× fewer, made its convolutions only 1.4× faster, as its GEMMs over
// few channels run slower. The price is rounding: the transforms' constants (4, 5, 1/6, 1/24, …) make
// results differ from a direct float32 sum by ~10⁻⁵ of the largest output, against 2·10⁻⁶ for F(2×2, 3×3);
// cuDNN and oneDNN train with this variant too (tests/unit/kernels/winograd.test.ts bounds the error).

/** The output tile's side, and the transformed tile's positions (6×6). */
const TILE = 4;
const XI = 36;

/** Whether `g` is a convolution these kernels compute: 3×3, stride 1, no dilation, channels in fours. */
export function isWinogradShaped(g: ConvGeometry): boolean {
  return (
    g.filterH === 3 &&
    g.filterW === 3 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.dilationH === 1 &&
    g.dilationW === 1 &&
    g.inC % 4 === 0 &&
    g.outC % 4 === 0 &&
    g.padTop <= 2 &&
    g.padLeft <= 2
  );
}

let enabled = true;

/** Whether Loupe's convolution path takes Winograd for the layers it fits (default true; benches compare). */
export function useWinograd(on: boolean): void {
  enabled = on;
}

/**
 * Output tiles below which the forward pass and input gradient stay on im2col + GEMM: the 36·C·K
 * transformed filter is made anew each call (3.7 ms at C = K = 512) while a tile saves 108·C·K multiply-adds
 * (~0.8 ms there), so a handful of tiles repays it (ResNet18's layer4 at 128², batch 16, has 16: 11.5 ms
 * against im2col's 19). The filter gradient transforms no filter and gains at any size.
 */
const MIN_DATA_TILES = 8;

/** Whether a convolution of `g` on Loupe's convolution path runs as Winograd now, for this pass. */
export function winogradApplies(g: ConvGeometry, pass: 'data' | 'filter'): boolean {
  if (!enabled || !isWinogradShaped(g)) return false;
  return pass === 'filter' || g.batch * Math.ceil(g.outH / TILE) * Math.ceil(g.outW / TILE) >= MIN_DATA_TILES;
}

/**
 * The floats from one tile position's matrix to the next: `floats` and one cache line more. The transforms
 * read or write all 36 positions at once, and strides that are multiples of 4 KiB would put all 36 streams
 * in the same L1 cache sets (wino_filter at C = K = 512 took 22 ms with them).
 */
function spaced(floats: number): number {
  return floats + 16;
}

/** One side of a convolution as the transforms see it: an H×W NHWC map of C channels. */
interface FeatureMap {
  ptr: number;
  H: number;
  W: number;
  C: number;
}

/**
 * `out = src ⊛ U` for the transformed filters U ([36][src.C][out.C]) over `batch` images: tiles of the
 * output in chunks of images whose V and M fit the im2col budget, each chunk V = Bᵀ d B, 36 GEMMs, Aᵀ m A.
 * `padTop`/`padLeft`: where the first input tile starts above and left of the map.
 */
function convolve(backend: BackendWasm, kernels: SimdKernels, src: FeatureMap, U: number, out: FeatureMap, batch: number, padTop: number, padLeft: number): void {
  const TH = Math.ceil(out.H / TILE);
  const TW = Math.ceil(out.W / TILE);
  const perImage = TH * TW;
  const step = imagesPerChunk(batch, perImage, src.C + out.C);
  const V = temp(backend, [XI * spaced(step * perImage * src.C)]);
  const M = temp(backend, [XI * spaced(step * perImage * out.C)]);
  const zeros = zeroed(backend, [src.C]);
  const discard = temp(backend, [out.C]);
  const [pV, pM, pZeros, pDiscard] = [V, M, zeros, discard].map((t) => pointer(backend, t)) as [number, number, number, number];
  for (let b0 = 0; b0 < batch; b0 += step) {
    const tiles = (Math.min(batch, b0 + step) - b0) * perImage;
    const t0 = b0 * perImage;
    const [vStride, mStride] = [spaced(tiles * src.C), spaced(tiles * out.C)];
    kernels.wino_input(src.ptr, pV, vStride, t0, t0 + tiles, src.H, src.W, src.C, TH, TW, padTop, padLeft, pZeros);
    kernels.gemm_ab_batched(pV, vStride, src.C, U, spaced(src.C * out.C), out.C, pM, mStride, out.C, tiles, src.C, out.C, XI);
    kernels.wino_output(pM, out.ptr, mStride, t0, t0 + tiles, out.H, out.W, out.C, TH, TW, pDiscard);
  }
  for (const t of [V, M, zeros, discard]) free(backend, t);
}

/** Images per chunk so that a chunk's 36 transformed values per tile and channel stay within the im2col budget. */
function imagesPerChunk(batch: number, tilesPerImage: number, channels: number): number {
  return Math.max(1, Math.min(batch, Math.floor(im2colBudget() / (XI * tilesPerImage * channels))));
}

/** y = x ⊛ W: the filter [3, 3, inC, outC] transformed to U[ξ][inC][outC] (36 positions), then `convolve`. */
export function winogradForward(backend: BackendWasm, kernels: SimdKernels, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, outShape: number[]): TensorInfo {
  const y = temp(backend, outShape);
  const U = temp(backend, [XI * spaced(g.inC * g.outC)]);
  kernels.wino_filter(pointer(backend, filter), pointer(backend, U), spaced(g.inC * g.outC), g.inC, g.outC, g.outC, g.inC * g.outC, 0);
  const src = { ptr: pointer(backend, x), H: g.inH, W: g.inW, C: g.inC };
  const out = { ptr: pointer(backend, y), H: g.outH, W: g.outW, C: g.outC };
  convolve(backend, kernels, src, pointer(backend, U), out, g.batch, g.padTop, g.padLeft);
  free(backend, U);
  return y;
}

/**
 * dx = dy ⊛ rot180(W)ᵀ: the input gradient of a stride-1 convolution is a convolution of dy with the filter
 * turned 180° and its channels swapped, whose tiles start 2 − pad above and left of dy.
 */
export function winogradInputGrad(backend: BackendWasm, kernels: SimdKernels, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry, inShape: number[]): TensorInfo {
  const taps = 9 * g.inC;
  const filterT = temp(backend, [g.outC, taps]);
  const U = temp(backend, [XI * spaced(g.outC * g.inC)]);
  const dx = temp(backend, inShape);
  transposeInto(backend, kernels, filter, taps, g.outC, filterT);
  kernels.wino_filter(pointer(backend, filterT), pointer(backend, U), spaced(g.outC * g.inC), g.outC, g.inC, taps, g.inC, 1);
  free(backend, filterT);
  const src = { ptr: pointer(backend, dy), H: g.outH, W: g.outW, C: g.outC };
  const out = { ptr: pointer(backend, dx), H: g.inH, W: g.inW, C: g.inC };
  convolve(backend, kernels, src, pointer(backend, U), out, g.batch, 2 - g.padTop, 2 - g.padLeft);
  free(backend, U);
  return dx;
}

/**
 * dW = Gᵀ (Σ over tiles V ⊙ D) G with V = Bᵀ x B the forward's input tiles and D = A dy Aᵀ: per tile
 * position the sum over tiles is one GEMM, Vᵀ·D, summed over chunks of images.
 */
export function winogradFilterGrad(backend: BackendWasm, kernels: SimdKernels, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, filterShape: number[]): TensorInfo {
  const C = g.inC;
  const K = g.outC;
  const TH = Math.ceil(g.outH / TILE);
  const TW = Math.ceil(g.outW / TILE);
  const perImage = TH * TW;
  const step = imagesPerChunk(g.batch, perImage, C + K);
  const sums = zeroed(backend, [XI * spaced(C * K)]);
  const V = temp(backend, [XI * spaced(step * perImage * C)]);
  const D = temp(backend, [XI * spaced(step * perImage * K)]);
  const zeros = zeroed(backend, [Math.max(C, K)]);
  const dW = temp(backend, filterShape);
  const [pS, pV, pD, pZeros, pX, pDy] = [sums, V, D, zeros, x, dy].map((t) => pointer(backend, t)) as [number, number, number, number, number, number];
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const tiles = (Math.min(g.batch, b0 + step) - b0) * perImage;
    const t0 = b0 * perImage;
    const [vStride, dStride] = [spaced(tiles * C), spaced(tiles * K)];
    kernels.wino_input(pX, pV, vStride, t0, t0 + tiles, g.inH, g.inW, C, TH, TW, g.padTop, g.padLeft, pZeros);
    kernels.wino_output_grad(pDy, pD, dStride, t0, t0 + tiles, g.outH, g.outW, K, TH, TW, pZeros);
    kernels.gemm_atb_batched(pV, vStride, C, pD, dStride, K, tiles, C, K, pS, K, spaced(C * K), atbChunk(C, K), XI);
  }
  kernels.wino_filter_grad(pS, pointer(backend, dW), C * K, spaced(C * K));
  for (const t of [sums, V, D, zeros]) free(backend, t);
  return dW;
}
