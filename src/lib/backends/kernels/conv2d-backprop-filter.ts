import * as tf from '@tensorflow/tfjs';
import type { backend_util } from '@tensorflow/tfjs';

/**
 * dL/dW of a 2-D convolution, NHWC input and HWIO filter:
 * dW[kh, kw, ci, co] = Σ_{b, oy, ox} x[b, oy·s + kh·d − pad, ox·s + kw·d − pad, ci] · dy[b, oy, ox, co].
 *
 * Loop order is what makes it fast: the innermost loop runs over output channels, contiguous in both
 * `dy` and `dW`, and zero inputs (common after ReLU) skip their whole row. tfjs's reference kernel
 * walks the filter in the outer loops, which strides through memory.
 */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Sums run over batch × output pixels (tens of thousands of terms): accumulate in float64.
  const dW = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const iy = oy * strideHeight + kh * dilationHeight - top;
        if (iy < 0 || iy >= inHeight) continue;
        for (let ox = 0; ox < outWidth; ox++) {
          const dyBase = ((b * outHeight + oy) * outWidth + ox) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth + kw * dilationWidth - left;
            if (ix < 0 || ix >= inWidth) continue;
            const xBase = ((b * inHeight + iy) * inWidth + ix) * inChannels;
            const wBase = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = x[xBase + ci]!;
              if (xv === 0) continue;
              const row = wBase + ci * outChannels;
              for (let co = 0; co < outChannels; co++) dW[row + co]! += xv * dy[dyBase + co]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dW);
}

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The shapes and padding of a backprop-filter call, computed exactly as tfjs does. */
export function backpropFilterInfo(xShape: number[], attrs: BackpropFilterAttrs): backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
