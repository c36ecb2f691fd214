import * as tf from '@tensorflow/tfjs';
import type { Conv2D, ConvLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import type { DepthwiseConv2D, DepthwiseConv2DLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/convolutional_depthwise';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';

/** tfjs-layers' Conv2D and DepthwiseConv2D classes: the tfjs package exports only their factories, so take them from instances. */
const Conv2DBase = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as new (args: ConvLayerArgs) => Conv2D;
const DepthwiseConv2DBase = Object.getPrototypeOf(tf.layers.depthwiseConv2d({ kernelSize: 1 })).constructor as new (
  args: DepthwiseConv2DLayerArgs,
) => DepthwiseConv2D;

/**
 * Loupe's own config field of both convolutions: zero padding of this many pixels on every side, as torch's
 * `padding=k // 2` (Keras has only 'same', which for stride 2 pads the bottom and right alone). The layer's
 * `padding` stays 'valid'. Done by the convolution kernels themselves, without a padded copy of the input
 * and its gradient's slice that a ZeroPadding2D layer before them costs.
 */
export interface SymmetricPadding {
  symmetricPadding?: number;
}

/**
 * `Base` (a convolution layer class) with SymmetricPadding: checked at construction, saved in its config,
 * and the output shape the padded input gives; the subclass's `call` pads.
 */
function symmetricallyPadded<Args extends { padding?: string; dataFormat?: string }>(Base: new (args: Args) => tf.layers.Layer, layer: string) {
  return class extends Base {
    readonly symmetricPadding?: number;

    constructor({ symmetricPadding, ...args }: Args & SymmetricPadding) {
      super(args as unknown as Args);
      if (symmetricPadding === undefined) return;
      if (!Number.isInteger(symmetricPadding) || symmetricPadding < 0) throw new Error(`${layer}'s symmetricPadding must be a whole number of pixels ≥ 0, got ${symmetricPadding}`);
      if ((args.padding ?? 'valid') !== 'valid') throw new Error(`${layer} takes symmetricPadding with padding 'valid', got '${args.padding}'`);
      if ((args.dataFormat ?? 'channelsLast') !== 'channelsLast') throw new Error(`${layer} takes symmetricPadding channels last, got '${args.dataFormat}'`);
      if (symmetricPadding) this.symmetricPadding = symmetricPadding;
    }

    override getConfig(): tf.serialization.ConfigDict {
      const config = super.getConfig();
      return this.symmetricPadding ? { ...config, symmetricPadding: this.symmetricPadding } : config;
    }

    override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
      const p = this.symmetricPadding;
      if (!p) return super.computeOutputShape(inputShape);
      const [batch, h, w, c] = inputShape as tf.Shape;
      return super.computeOutputShape([batch, h == null ? h : h + 2 * p, w == null ? w : w + 2 * p, c] as tf.Shape);
    }
  };
}

/** The base class's state this layer reads (private or protected in tfjs-layers' typings). */
interface ConvState {
  kernel: LayerVariable;
  bias: LayerVariable | null;
  strides: [number, number];
  padding: string;
  dataFormat: string;
  dilationRate: number | [number, number];
  activation: { getClassName(): string };
}

/**
 * Keras's Conv2D — same weights, config and class name, so saved models are unchanged and load into it —
 * that convolves with tfjs's plain `conv2d` op when there is no bias or activation to fuse (every conv
 * followed by a BatchNorm).
 *
 * Why: Conv2D always calls tfjs's fused conv op, whose gradient is one custom function computing the input
 * and filter gradients together whenever either is needed. The plain op's gradient computes only what is
 * asked: not the image's gradient at the stem (unused; 26–41 ms of a dual MobileNetV3-Small step on wasm
 * at 128²), not a frozen layer's filter gradient when fine-tuning. Same forward kernel family, same values.
 * @example new LoupeConv2D({ filters: 16, kernelSize: 3, strides: 2, useBias: false, name: 'stem' }).apply(x)
 */
export class LoupeConv2D extends symmetricallyPadded<ConvLayerArgs>(Conv2DBase, 'Conv2D') {
  static readonly className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as ConvState;
    const plain = state.bias === null && state.dataFormat === 'channelsLast' && state.activation.getClassName() === 'linear' && (state.padding === 'same' || state.padding === 'valid');
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const p = this.symmetricPadding;
    if (!plain || !x) return p ? tf.tidy(() => super.call(padInput(inputs, p), kwargs)) : super.call(inputs, kwargs);
    const padding = p ?? (state.padding as 'same' | 'valid');
    return tf.tidy(() => tf.conv2d(x as tf.Tensor4D, state.kernel.read() as tf.Tensor4D, state.strides, padding, 'NHWC', state.dilationRate));
  }
}

/**
 * Keras's DepthwiseConv2D — same weights, config and class name, so saved models are unchanged and load
 * into it — with torch's symmetric padding where its config asks for it (SymmetricPadding).
 * @example new LoupeDepthwiseConv2D({ kernelSize: 3, strides: 2, symmetricPadding: 1, useBias: false, name: 'dw' }).apply(x)
 */
export class LoupeDepthwiseConv2D extends symmetricallyPadded<DepthwiseConv2DLayerArgs>(DepthwiseConv2DBase, 'DepthwiseConv2D') {
  static readonly className = 'DepthwiseConv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const p = this.symmetricPadding;
    const state = this as unknown as { depthwiseKernel: LayerVariable; bias: LayerVariable | null; strides: [number, number]; dilationRate: number | [number, number] };
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!p || !x) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const y = tf.depthwiseConv2d(x as tf.Tensor4D, state.depthwiseKernel.read() as tf.Tensor4D, state.strides, p, 'NHWC', state.dilationRate);
      return state.bias ? tf.add(y, state.bias.read()) : y;
    });
  }
}

/** The input zero-padded by `p` pixels on each side of its height and width (NHWC): the general path. */
function padInput(inputs: tf.Tensor | tf.Tensor[], p: number): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0]! : inputs;
  return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
}

// Under tfjs-layers' own names: every Conv2D and DepthwiseConv2D deserialized from now on (saved models
// included) is this module's class. `fromConfig` is inherited (the typings want it declared on the class itself).
tf.serialization.registerClass(LoupeConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
tf.serialization.registerClass(LoupeDepthwiseConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
