import type { backend_util } from '@tensorflow/tfjs';

let runningMax = new Float64Array(0);
let argmax = new Int32Array(0);

/**
 * Max-pool gradient, NHWC: each output's dy goes to the first maximum of its window (row-major order,
 * strict `>` from −∞, as tfjs's cpu kernel does). `dx` must be zeroed by the caller.
 *
 * Why ours: tfjs-backend-wasm 4.22's MaxPoolGrad drops the gradient of any window whose values are all
 * negative (it finds no maximum above 0), which happens whenever max pooling follows a BatchNorm.
 * simd/pool.wat is the same loop four channels at a time (channels a multiple of 4); this one is its
 * reference and serves the rest.
 */
export function maxPoolGrad(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (runningMax.length < C) {
    runningMax = new Float64Array(C);
    argmax = new Int32Array(C);
  }
  let y = 0;
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * C;
    for (let oh = 0; oh < outHeight; oh++) {
      const top = oh * strideHeight - padTop;
      for (let ow = 0; ow < outWidth; ow++, y += C) {
        const left = ow * strideWidth - padLeft;
        runningMax.fill(Number.NEGATIVE_INFINITY, 0, C);
        argmax.fill(-1, 0, C);
        for (let fh = 0; fh < effectiveFilterHeight; fh += dilationHeight) {
          const ih = top + fh;
          if (ih < 0 || ih >= inHeight) continue;
          for (let fw = 0; fw < effectiveFilterWidth; fw += dilationWidth) {
            const iw = left + fw;
            if (iw < 0 || iw >= inWidth) continue;
            const xs = xb + (ih * inWidth + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xs + c]!;
              if (v > runningMax[c]!) {
                runningMax[c] = v;
                argmax[c] = xs + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const at = argmax[c]!;
          if (at >= 0) dx[at]! += dy[y + c]!;
        }
      }
    }
  }
}
