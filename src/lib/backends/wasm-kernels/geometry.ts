import type { backend_util } from '@tensorflow/tfjs';

/**
 * The numbers every NHWC convolution loop needs, taken from tfjs's own `computeConv2DInfo` so shapes and
 * padding ('same', 'valid', explicit, rounding modes) are exactly the ones tfjs's forward pass used.
 */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  /** Output channels: for a depthwise conv, inC × channel multiplier. */
  outC: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
}

export function geometryOf(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** True when im2col of `g` is the input itself: a 1×1 kernel, stride 1, no padding. */
export function isPointwise(g: ConvGeometry): boolean {
  return (
    g.filterH === 1 &&
    g.filterW === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outH === g.inH &&
    g.outW === g.inW
  );
}

/** First output index `o ≥ 0` whose input index `o·stride − pad + offset` is ≥ 0. */
export function firstValid(pad: number, offset: number, stride: number): number {
  const start = pad - offset;
  return start <= 0 ? 0 : Math.ceil(start / stride);
}

/** One past the last output index `o < outSize` whose input index `o·stride − pad + offset` is < inSize. */
export function endValid(inSize: number, outSize: number, pad: number, offset: number, stride: number): number {
  const limit = inSize + pad - offset; // o·stride < limit
  if (limit <= 0) return 0;
  return Math.min(outSize, Math.ceil(limit / stride));
}
