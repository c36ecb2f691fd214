import * as tf from '@tensorflow/tfjs';
import type { Conv2D, ConvLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';

/** tfjs-layers' Conv2D class: the tfjs package exports only its factory, so take it from an instance. */
const Conv2DBase = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as new (args: ConvLayerArgs) => Conv2D;

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
export class LoupeConv2D extends Conv2DBase {
  static readonly className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as ConvState;
    const plain = state.bias === null && state.dataFormat === 'channelsLast' && state.activation.getClassName() === 'linear' && (state.padding === 'same' || state.padding === 'valid');
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!plain || !x) return super.call(inputs, kwargs);
    return tf.tidy(() => tf.conv2d(x as tf.Tensor4D, state.kernel.read() as tf.Tensor4D, state.strides, state.padding as 'same' | 'valid', 'NHWC', state.dilationRate));
  }
}

// Under tfjs-layers' own name: every Conv2D deserialized from now on (saved models included) is this class.
// `fromConfig` is inherited (the typings want it declared on the class itself).
tf.serialization.registerClass(LoupeConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
