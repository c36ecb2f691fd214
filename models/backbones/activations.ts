import * as tf from '@tensorflow/tfjs';

/**
 * PyTorch's `nn.Hardsigmoid`: relu6(x + 3) / 6.
 *
 * Why a layer of our own: tfjs's built-in `hardSigmoid` activation is Keras's older 0.2·x + 0.5 (clipped),
 * a different function, so torchvision weights would not reproduce torchvision's outputs with it.
 * @example tf.model({ inputs, outputs: new HardSigmoid({ name: 'gate' }).apply(x) as tf.SymbolicTensor })
 */
export class HardSigmoid extends tf.layers.Layer {
  static readonly className = 'HardSigmoid';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.div(tf.relu6(tf.add(single(inputs), 3)), 6));
  }
}

/**
 * PyTorch's `nn.Hardswish`: x · relu6(x + 3) / 6, the activation of MobileNetV3.
 * @example new HardSwish({ name: 'features_0_2' }).apply(x)
 */
export class HardSwish extends tf.layers.Layer {
  static readonly className = 'HardSwish';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
    });
  }
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x) throw new Error('expected one input tensor');
  return x;
}

tf.serialization.registerClass(HardSigmoid);
tf.serialization.registerClass(HardSwish);
