import * as tf from '@tensorflow/tfjs';
import {
  activation,
  batchNorm,
  blockContext,
  checkInputSize,
  conv2d,
  depthwiseConv2d,
  globalAveragePool,
  layerName,
  type BlockContext,
} from '../blocks';
import type { Backbone, BackboneOptions } from '../types';
import {
  blockLayout,
  MOBILENETV3_BN_EPSILON,
  MOBILENETV3_BN_TORCH_MOMENTUM,
  MOBILENETV3_SMALL_BLOCKS,
  MOBILENETV3_SMALL_FEATURES,
  MOBILENETV3_SMALL_STEM_CHANNELS,
  squeezeChannels,
  type InvertedResidualSetting,
} from './constants';
import { mobileNetV3SmallWeightMap } from './weights';

/** `torchvision.ops.SqueezeExcitation(c, squeeze, scale_activation=nn.Hardsigmoid)`: x · hsigmoid(fc2(relu(fc1(avgpool(x))))). */
function squeezeExcite(x: tf.SymbolicTensor, ctx: BlockContext, path: string, squeeze: number): tf.SymbolicTensor {
  const channels = x.shape[3] as number;
  let scale = globalAveragePool(x, ctx, `${path}.avgpool`);
  // The SE "fc" layers are 1×1 convs with bias in torch: keep them convs so their weights map 1:1.
  scale = tf.layers.reshape({ targetShape: [1, 1, channels], name: layerName(ctx.prefix, `${path}.reshape`) }).apply(scale) as tf.SymbolicTensor;
  scale = conv2d(scale, ctx, { path: `${path}.fc1`, filters: squeeze, kernelSize: 1, useBias: true });
  scale = activation(scale, ctx, 'relu', `${path}.activation`);
  scale = conv2d(scale, ctx, { path: `${path}.fc2`, filters: channels, kernelSize: 1, useBias: true });
  scale = activation(scale, ctx, 'hardsigmoid', `${path}.scale_activation`);
  return tf.layers.multiply({ name: layerName(ctx.prefix, `${path}.scale`) }).apply([x, scale]) as tf.SymbolicTensor;
}

/** `torchvision.models.mobilenetv3.InvertedResidual`: [expand 1×1] → depthwise k×k → [SE] → project 1×1 (+ input). */
function invertedResidual(x: tf.SymbolicTensor, ctx: BlockContext, index: number, setting: InvertedResidualSetting): tf.SymbolicTensor {
  const path = `features.${index}.block`;
  const layout = blockLayout(setting);
  let y = x;
  if (layout.expand !== undefined) {
    const expand = `${path}.${layout.expand}`;
    y = conv2d(y, ctx, { path: `${expand}.0`, filters: setting.expandedChannels, kernelSize: 1 });
    y = batchNorm(y, ctx, `${expand}.1`, setting.activation); // with torch's `${expand}.2`
  }
  const depthwise = `${path}.${layout.depthwise}`;
  y = depthwiseConv2d(y, ctx, { path: `${depthwise}.0`, kernelSize: setting.kernelSize, strides: setting.strides });
  y = batchNorm(y, ctx, `${depthwise}.1`, setting.activation); // with torch's `${depthwise}.2`
  if (layout.squeezeExcite !== undefined) {
    y = squeezeExcite(y, ctx, `${path}.${layout.squeezeExcite}`, squeezeChannels(setting.expandedChannels));
  }
  const project = `${path}.${layout.project}`;
  y = conv2d(y, ctx, { path: `${project}.0`, filters: setting.outputChannels, kernelSize: 1 });
  y = batchNorm(y, ctx, `${project}.1`);
  if (setting.strides === 1 && setting.inputChannels === setting.outputChannels) {
    y = tf.layers.add({ name: layerName(ctx.prefix, `features.${index}.add`) }).apply([y, x]) as tf.SymbolicTensor;
  }
  return y;
}

/**
 * torchvision's `mobilenet_v3_small` without `classifier`: `features` and global average pooling →
 * [batch, 576]. BatchNorm eps 1e-3, momentum 0.01 (torch) as in torchvision.
 * @example const backbone = createMobileNetV3Small({ inputSize: 128 }); backbone.model.predict(images)
 */
export function createMobileNetV3Small(options: BackboneOptions = {}): Backbone {
  const inputSize = options.inputSize ?? 224;
  checkInputSize(inputSize);
  const prefix = options.namePrefix ?? '';
  const ctx = blockContext(prefix, options.seed ?? 1, options.batchNormEpsilon ?? MOBILENETV3_BN_EPSILON, options.batchNormMomentum ?? MOBILENETV3_BN_TORCH_MOMENTUM);

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: `${prefix}image` });
  let x = conv2d(input, ctx, { path: 'features.0.0', filters: MOBILENETV3_SMALL_STEM_CHANNELS, kernelSize: 3, strides: 2 });
  x = batchNorm(x, ctx, 'features.0.1', 'hardswish'); // with torch's features.0.2
  MOBILENETV3_SMALL_BLOCKS.forEach((setting, i) => {
    x = invertedResidual(x, ctx, i + 1, setting);
  });
  const last = `features.${MOBILENETV3_SMALL_BLOCKS.length + 1}`;
  x = conv2d(x, ctx, { path: `${last}.0`, filters: MOBILENETV3_SMALL_FEATURES, kernelSize: 1 });
  x = batchNorm(x, ctx, `${last}.1`, 'hardswish'); // with torch's `${last}.2`
  const features = globalAveragePool(x, ctx, 'avgpool');

  const model = tf.model({ inputs: input, outputs: features, name: `${prefix}mobilenetv3_small` });
  return {
    kind: 'mobilenetv3-small',
    model,
    inputSize,
    featureDim: MOBILENETV3_SMALL_FEATURES,
    weightMap: (naming) => mobileNetV3SmallWeightMap(prefix, naming),
  };
}
