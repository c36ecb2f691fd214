import type { ConvGeometry } from './geometry';

// Layout conventions (all NHWC, row-major):
//   x      [batch, inH, inW, inC]
//   col    one row per output pixel (b, oh, ow) of images b0..b1, K = filterH·filterW·inC columns ordered
//          (kh, kw, c) — the same order as a [filterH, filterW, inC, outC] filter's rows, so
//          y = col · W  with W viewed as a K×outC matrix.
// Loops write and read channels innermost, where NHWC keeps them contiguous.

/**
 * Writes im2col rows of images `b0 ≤ b < b1` into `col` (rows × K, row-major, leading dimension `ld` ≥ K;
 * columns K..ld of each row are zeroed).
 */
export function im2col(x: Float32Array, g: ConvGeometry, b0: number, b1: number, col: Float32Array, ld = g.filterH * g.filterW * g.inC): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const padding = ld - filterH * filterW * inC;
  const rowStride = inW * inC;
  const tapRow = filterW * inC;
  let dst = 0;
  for (let b = b0; b < b1; b++) {
    const xb = b * inH * rowStride;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * strideH - padTop;
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = ow * strideW - padLeft;
        for (let kh = 0; kh < filterH; kh++) {
          const ih = ih0 + kh * dilationH;
          if (ih < 0 || ih >= inH) {
            col.fill(0, dst, dst + tapRow);
            dst += tapRow;
            continue;
          }
          const xr = xb + ih * rowStride;
          for (let kw = 0; kw < filterW; kw++) {
            const iw = iw0 + kw * dilationW;
            if (iw < 0 || iw >= inW) {
              for (let c = 0; c < inC; c++) col[dst + c] = 0;
            } else {
              const src = xr + iw * inC;
              for (let c = 0; c < inC; c++) col[dst + c] = x[src + c]!;
            }
            dst += inC;
          }
        }
        for (let p = 0; p < padding; p++) col[dst++] = 0;
      }
    }
  }
}

/**
 * Writes the transpose of im2col (K × rows, row-major, leading dimension `rows`) of images `b0 ≤ b < b1`.
 * Output pixels are walked in tiles so the K write streams stay within a few cache lines each.
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, b0: number, b1: number, colT: Float32Array): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const rows = (b1 - b0) * outH * outW;
  const rowStride = inW * inC;
  let row = 0;
  for (let b = b0; b < b1; b++) {
    const xb = b * inH * rowStride;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * strideH - padTop;
      for (let kh = 0; kh < filterH; kh++) {
        const ih = ih0 + kh * dilationH;
        const inside = ih >= 0 && ih < inH;
        const xr = xb + ih * rowStride;
        for (let kw = 0; kw < filterW; kw++) {
          let k = (kh * filterW + kw) * inC * rows + row;
          // One (kh, kw) tap: for each channel, a contiguous run of outW outputs in colT's row.
          for (let c = 0; c < inC; c++, k += rows) {
            let dst = k;
            let iw = kw * dilationW - padLeft;
            for (let ow = 0; ow < outW; ow++, dst++, iw += strideW) {
              colT[dst] = inside && iw >= 0 && iw < inW ? x[xr + iw * inC + c]! : 0;
            }
          }
        }
      }
      row += outW;
    }
  }
}

/** Adds im2col-shaped gradients back onto the (already zeroed) input gradient `dx` of images b0..b1. */
export function col2im(dcol: Float32Array, g: ConvGeometry, b0: number, b1: number, dx: Float32Array): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const rowStride = inW * inC;
  const tapRow = filterW * inC;
  let src = 0;
  for (let b = b0; b < b1; b++) {
    const xb = b * inH * rowStride;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * strideH - padTop;
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = ow * strideW - padLeft;
        for (let kh = 0; kh < filterH; kh++) {
          const ih = ih0 + kh * dilationH;
          if (ih < 0 || ih >= inH) {
            src += tapRow;
            continue;
          }
          const xr = xb + ih * rowStride;
          for (let kw = 0; kw < filterW; kw++) {
            const iw = iw0 + kw * dilationW;
            if (iw >= 0 && iw < inW) {
              const dst = xr + iw * inC;
              for (let c = 0; c < inC; c++) dx[dst + c]! += dcol[src + c]!;
            }
            src += inC;
          }
        }
      }
    }
  }
}

const TILE = 32;

/** `dst[c·rows + r] = src[srcOffset + r·cols + c]`: a cache-tiled transpose of a rows × cols matrix. */
export function transpose(src: Float32Array, srcOffset: number, rows: number, cols: number, dst: Float32Array): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        const s = srcOffset + r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[s + c]!;
      }
    }
  }
}
