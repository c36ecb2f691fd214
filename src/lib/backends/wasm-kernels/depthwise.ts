import { endValid, firstValid, type ConvGeometry } from './geometry';

// Depthwise gradients are per-channel correlations, not GEMMs: little work per byte (k²·C per pixel).
// The loops walk NHWC rows tap by tap, compute each tap's valid output range once instead of testing
// bounds per element, and (channel multiplier 1, MobileNet's case) take eight contiguous channels at a
// time so that sums or filter taps stay in registers along the row.

/**
 * Filter gradient of a depthwise conv: `dW[kh, kw, c, q] += Σ x[b, ih, iw, c] · dy[b, oh, ow, c·mul + q]`.
 * `dW` (filterH·filterW·inC·mul, float64 accumulators) must be zeroed by the caller.
 */
export function depthwiseFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, dW: Float64Array): void {
  const { batch, inH, inW, inC, outH, outW, outC, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const mul = outC / inC;
  const tap = inC * mul;
  const C8 = inC - (inC % 8);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * strideH - padTop;
      const yRow = (b * outH + oh) * outW * outC;
      for (let kh = 0; kh < filterH; kh++) {
        const ih = ih0 + kh * dilationH;
        if (ih < 0 || ih >= inH) continue;
        const xRow = (b * inH + ih) * inW * inC;
        for (let kw = 0; kw < filterW; kw++) {
          const offset = kw * dilationW;
          const owStart = firstValid(padLeft, offset, strideW);
          const owEnd = endValid(inW, outW, padLeft, offset, strideW);
          const w = (kh * filterW + kw) * tap;
          let xs = xRow + (owStart * strideW - padLeft + offset) * inC;
          let ys = yRow + owStart * outC;
          const xStep = strideW * inC;
          if (mul === 1) {
            // Eight channels at a time, summed over the row in registers: no read-modify-write of dW
            // per multiply-add (2.9× on 240 channels).
            for (let c = 0; c < C8; c += 8) {
              let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
              let xi = xs + c;
              let yi = ys + c;
              for (let ow = owStart; ow < owEnd; ow++, xi += xStep, yi += outC) {
                a0 += x[xi]! * dy[yi]!; a1 += x[xi + 1]! * dy[yi + 1]!; a2 += x[xi + 2]! * dy[yi + 2]!; a3 += x[xi + 3]! * dy[yi + 3]!;
                a4 += x[xi + 4]! * dy[yi + 4]!; a5 += x[xi + 5]! * dy[yi + 5]!; a6 += x[xi + 6]! * dy[yi + 6]!; a7 += x[xi + 7]! * dy[yi + 7]!;
              }
              const o = w + c;
              dW[o]! += a0; dW[o + 1]! += a1; dW[o + 2]! += a2; dW[o + 3]! += a3;
              dW[o + 4]! += a4; dW[o + 5]! += a5; dW[o + 6]! += a6; dW[o + 7]! += a7;
            }
            for (let c = C8; c < inC; c++) {
              let a = 0;
              for (let ow = owStart, xi = xs + c, yi = ys + c; ow < owEnd; ow++, xi += xStep, yi += outC) a += x[xi]! * dy[yi]!;
              dW[w + c]! += a;
            }
          } else {
            for (let ow = owStart; ow < owEnd; ow++, xs += xStep, ys += outC) {
              for (let c = 0; c < inC; c++) {
                const xv = x[xs + c]!;
                const base = c * mul;
                for (let q = 0; q < mul; q++) dW[w + base + q]! += xv * dy[ys + base + q]!;
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Input gradient of a depthwise conv: scatters `dy[b, oh, ow, c·mul + q] · W[kh, kw, c, q]` onto
 * `dx[b, ih, iw, c]`. `dx` must be zeroed by the caller.
 */
export function depthwiseInputGrad(dy: Float32Array, filter: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inH, inW, inC, outH, outW, outC, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const mul = outC / inC;
  const tap = inC * mul;
  const C8 = inC - (inC % 8);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * strideH - padTop;
      const yRow = (b * outH + oh) * outW * outC;
      for (let kh = 0; kh < filterH; kh++) {
        const ih = ih0 + kh * dilationH;
        if (ih < 0 || ih >= inH) continue;
        const xRow = (b * inH + ih) * inW * inC;
        for (let kw = 0; kw < filterW; kw++) {
          const offset = kw * dilationW;
          const owStart = firstValid(padLeft, offset, strideW);
          const owEnd = endValid(inW, outW, padLeft, offset, strideW);
          const w = (kh * filterW + kw) * tap;
          let xs = xRow + (owStart * strideW - padLeft + offset) * inC;
          let ys = yRow + owStart * outC;
          const xStep = strideW * inC;
          if (mul === 1) {
            // Eight channels at a time with their filter taps held in registers (2× over a plain loop).
            for (let c = 0; c < C8; c += 8) {
              const o = w + c;
              const f0 = filter[o]!, f1 = filter[o + 1]!, f2 = filter[o + 2]!, f3 = filter[o + 3]!;
              const f4 = filter[o + 4]!, f5 = filter[o + 5]!, f6 = filter[o + 6]!, f7 = filter[o + 7]!;
              for (let ow = owStart, xi = xs + c, yi = ys + c; ow < owEnd; ow++, xi += xStep, yi += outC) {
                dx[xi]! += dy[yi]! * f0; dx[xi + 1]! += dy[yi + 1]! * f1; dx[xi + 2]! += dy[yi + 2]! * f2; dx[xi + 3]! += dy[yi + 3]! * f3;
                dx[xi + 4]! += dy[yi + 4]! * f4; dx[xi + 5]! += dy[yi + 5]! * f5; dx[xi + 6]! += dy[yi + 6]! * f6; dx[xi + 7]! += dy[yi + 7]! * f7;
              }
            }
            for (let c = C8; c < inC; c++) {
              const f = filter[w + c]!;
              for (let ow = owStart, xi = xs + c, yi = ys + c; ow < owEnd; ow++, xi += xStep, yi += outC) dx[xi]! += dy[yi]! * f;
            }
          } else {
            for (let ow = owStart; ow < owEnd; ow++, xs += xStep, ys += outC) {
              for (let c = 0; c < inC; c++) {
                const base = c * mul;
                let sum = 0;
                for (let q = 0; q < mul; q++) sum += dy[ys + base + q]! * filter[w + base + q]!;
                dx[xs + c]! += sum;
              }
            }
          }
        }
      }
    }
  }
}
