import * as tf from '@tensorflow/tfjs';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';

/**
 * Kernels a backend may register to run these activations as one kernel each way instead of 4 forward and
 * ~9 backward (Loupe's wasm kernels do: src/lib/backends/wasm-kernels/activations.ts). Inputs `x` (and `dy`
 * for a gradient); they must give the bits the composed ops give, so the model is the same model on
 * every backend.
 */
export const HARD_SWISH_KERNEL = 'LoupeHardSwish';
export const HARD_SWISH_GRAD_KERNEL = 'LoupeHardSwishGrad';
export const HARD_SIGMOID_KERNEL = 'LoupeHardSigmoid';
export const HARD_SIGMOID_GRAD_KERNEL = 'LoupeHardSigmoidGrad';
/** ReLU's gradient, dy · step(x), which tfjs composes of three kernels (Step, Cast, Multiply); the forward pass is tfjs's Relu. */
export const RELU_GRAD_KERNEL = 'LoupeReluGrad';

/** `forward` as one kernel with `gradient` as its gradient, for a backend that registers both. */
function fusedActivation(forward: string, gradient: string): (x: tf.Tensor) => tf.Tensor | null {
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.engine().runKernel(forward, { x }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.engine().runKernel(gradient, { x: saved!, dy }) as tf.Tensor,
    };
  }) as CustomGradientFunc<tf.Tensor>);
  return (x) => {
    const backend = tf.getBackend();
    return x.dtype === 'float32' && tf.getKernel(forward, backend) && tf.getKernel(gradient, backend) ? op(x) : null;
  };
}

const fusedHardSigmoid = fusedActivation(HARD_SIGMOID_KERNEL, HARD_SIGMOID_GRAD_KERNEL);
const fusedHardSwish = fusedActivation(HARD_SWISH_KERNEL, HARD_SWISH_GRAD_KERNEL);
const fusedRelu = fusedActivation('Relu', RELU_GRAD_KERNEL);

/** The activations that follow a BatchNorm in the backbones, which its layer can apply itself (batch-norm.ts). */
export type BatchNormActivation = 'relu' | 'hardswish';

/** PyTorch's hard-swish and hard-sigmoid, and ReLU, each as one kernel each way where the backend registers them. */
export function activate(kind: BatchNormActivation | 'hardsigmoid', x: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return fusedRelu(x) ?? tf.relu(x);
    case 'hardswish':
      return fusedHardSwish(x) ?? tf.tidy(() => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)));
    case 'hardsigmoid':
      return fusedHardSigmoid(x) ?? tf.tidy(() => tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}

/** tfjs-layers' ReLU class: the tfjs package exports only its factory, so take it from an instance. */
const ReLUBase = Object.getPrototypeOf(tf.layers.reLU({})).constructor as new (args?: { maxValue?: number; name?: string }) => tf.layers.Layer;

/**
 * Keras's ReLU layer — same config and class name, so saved models are unchanged and load into it — whose
 * gradient is one kernel where the backend registers `RELU_GRAD_KERNEL` (the backbones' ReLUs: ~60 kernel
 * calls fewer in a dual MobileNetV3-Small step). Same values as tfjs's gradient.
 * @example new LoupeReLU({ name: 'layer1_0_relu' }).apply(x)
 */
export class LoupeReLU extends ReLUBase {
  static readonly className = 'ReLU';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const maxValue = (this as unknown as { maxValue?: number | null }).maxValue;
    return maxValue == null ? activate('relu', single(inputs)) : super.call(inputs, kwargs);
  }
}

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
    return activate('hardsigmoid', single(inputs));
  }
}

/**
 * PyTorch's `nn.Hardswish`: x · relu6(x + 3) / 6, the activation of MobileNetV3.
 * @example new HardSwish({ name: 'features_0_2' }).apply(x)
 */
export class HardSwish extends tf.layers.Layer {
  static readonly className = 'HardSwish';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return activate('hardswish', single(inputs));
  }
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x) throw new Error('expected one input tensor');
  return x;
}

tf.serialization.registerClass(HardSigmoid);
tf.serialization.registerClass(HardSwish);
// Under tfjs-layers' own name: every ReLU deserialized from now on (saved models included) is this class.
tf.serialization.registerClass(LoupeReLU as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
