import { gemmABt, gemmAtB } from './gemm';
import { isPointwise, type ConvGeometry } from './geometry';
import { col2im, im2col } from './im2col';

// Pure-TypeScript conv2d gradients as im2col + GEMM (the `js` GEMM of the wasm kernels; also the
// reference the XNNPACK-backed path is tested against). Inputs and outputs are NHWC Float32Arrays.

/** im2col floats materialized at once (16 MiB): bounds scratch and heap temporaries whatever the layer. */
const DEFAULT_COL_BUDGET = 4 * 1024 * 1024;
let colBudget = DEFAULT_COL_BUDGET;

/**
 * Sets how many floats an im2col chunk may hold (tests use a tiny budget to exercise chunking); no
 * argument restores the default.
 */
export function setIm2colBudget(floats = DEFAULT_COL_BUDGET): void {
  colBudget = floats;
}

/** How many floats an im2col chunk (or another convolution's scratch) may hold now. */
export function im2colBudget(): number {
  return colBudget;
}

let scratch = new Float32Array(0);
let accumulator = new Float64Array(0);

/** A reusable scratch buffer of at least `n` floats (grown, never shrunk: no allocation per call). */
function scratchF32(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

/** Zeroed float64 accumulators for `n` filter values. */
export function zeroedAccumulator(n: number): Float64Array {
  if (accumulator.length < n) accumulator = new Float64Array(n);
  accumulator.fill(0, 0, n);
  return accumulator;
}

/** Images per im2col chunk so that chunk rows × `width` stays within the budget (at least one image). */
export function imagesPerChunk(g: ConvGeometry, width: number): number {
  return Math.max(1, Math.min(g.batch, Math.floor(colBudget / (g.outH * g.outW * width))));
}

/**
 * `dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s − p + kh, ow·s − p + kw, ci] · dy[b, oh, ow, co]`,
 * i.e. dW (K × outC) = im2col(x)ᵀ · dy, written to `dW` (filterH·filterW·inC·outC floats).
 */
export function conv2dFilterGradJs(x: Float32Array, dy: Float32Array, g: ConvGeometry, dW: Float32Array): void {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const acc = zeroedAccumulator(K * N);
  const rowsPerImage = g.outH * g.outW;
  if (isPointwise(g)) {
    gemmAtB(x, 0, K, dy, 0, N, g.batch * rowsPerImage, K, N, acc);
  } else {
    const step = imagesPerChunk(g, K);
    const col = scratchF32(step * rowsPerImage * K);
    for (let b0 = 0; b0 < g.batch; b0 += step) {
      const b1 = Math.min(g.batch, b0 + step);
      im2col(x, g, b0, b1, col);
      gemmAtB(col, 0, K, dy, b0 * rowsPerImage * N, N, (b1 - b0) * rowsPerImage, K, N, acc);
    }
  }
  for (let i = 0; i < K * N; i++) dW[i] = acc[i]!;
}

/**
 * `dx = col2im(dy · Wᵀ)` with W the [filterH, filterW, inC, outC] filter viewed as K × outC: dot products of
 * dy's rows with the filter's rows, scattered back onto the input positions. Overwrites all of `dx`.
 */
export function conv2dInputGradJs(dy: Float32Array, filter: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const K = g.filterH * g.filterW * g.inC;
  const N = g.outC;
  const rowsPerImage = g.outH * g.outW;
  if (isPointwise(g)) {
    gemmABt(dy, 0, N, filter, g.batch * rowsPerImage, K, N, dx, 0);
    return;
  }
  dx.fill(0);
  const step = imagesPerChunk(g, K);
  const dcol = scratchF32(step * rowsPerImage * K);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const b1 = Math.min(g.batch, b0 + step);
    gemmABt(dy, b0 * rowsPerImage * N, N, filter, (b1 - b0) * rowsPerImage, K, N, dcol, 0);
    col2im(dcol, g, b0, b1, dx);
  }
}
