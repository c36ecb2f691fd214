import * as tf from '@tensorflow/tfjs';
import {
  activation,
  batchNorm,
  blockContext,
  checkInputSize,
  conv2d,
  globalAveragePool,
  layerName,
  type BlockContext,
} from '../blocks';
import type { Backbone, BackboneOptions } from '../types';
import {
  hasDownsample,
  RESNET18_BLOCKS_PER_STAGE,
  RESNET18_BN_EPSILON,
  RESNET18_BN_TORCH_MOMENTUM,
  RESNET18_FEATURES,
  RESNET18_STAGES,
} from './constants';
import { resnet18WeightMap } from './weights';

/** `torchvision.models.resnet.BasicBlock`: conv3×3-BN-ReLU-conv3×3-BN, plus the (projected) input, ReLU. */
function basicBlock(x: tf.SymbolicTensor, ctx: BlockContext, path: string, filters: number, strides: number, downsample: boolean): tf.SymbolicTensor {
  let y = conv2d(x, ctx, { path: `${path}.conv1`, filters, kernelSize: 3, strides });
  y = batchNorm(y, ctx, `${path}.bn1`, 'relu'); // with the block's first ReLU
  y = conv2d(y, ctx, { path: `${path}.conv2`, filters, kernelSize: 3 });
  y = batchNorm(y, ctx, `${path}.bn2`);
  let shortcut = x;
  if (downsample) {
    shortcut = conv2d(x, ctx, { path: `${path}.downsample.0`, filters, kernelSize: 1, strides });
    shortcut = batchNorm(shortcut, ctx, `${path}.downsample.1`);
  }
  const sum = tf.layers.add({ name: layerName(ctx.prefix, `${path}.add`) }).apply([y, shortcut]) as tf.SymbolicTensor;
  return activation(sum, ctx, 'relu', `${path}.relu2`);
}

/**
 * torchvision's `resnet18` without `fc`: conv1 … layer4, global average pooling → [batch, 512].
 * BatchNorm eps 1e-5, momentum 0.1 (torch) as in torchvision.
 * @example const backbone = createResNet18({ inputSize: 224 }); backbone.model.predict(images)
 */
export function createResNet18(options: BackboneOptions = {}): Backbone {
  const inputSize = options.inputSize ?? 224;
  checkInputSize(inputSize);
  const prefix = options.namePrefix ?? '';
  const ctx = blockContext(prefix, options.seed ?? 1, options.batchNormEpsilon ?? RESNET18_BN_EPSILON, options.batchNormMomentum ?? RESNET18_BN_TORCH_MOMENTUM);

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: `${prefix}image` });
  let x = conv2d(input, ctx, { path: 'conv1', filters: 64, kernelSize: 7, strides: 2 });
  x = batchNorm(x, ctx, 'bn1', 'relu'); // with torch's relu
  // torch's MaxPool2d(3, 2, padding=1) pads with −∞; after a ReLU every value is ≥ 0, so zero padding
  // gives the same maxima (each window holds at least one real pixel).
  x = tf.layers.zeroPadding2d({ padding: 1, name: layerName(prefix, 'maxpool_pad') }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: layerName(prefix, 'maxpool') }).apply(x) as tf.SymbolicTensor;
  RESNET18_STAGES.forEach((stage, stageIndex) => {
    for (let block = 0; block < RESNET18_BLOCKS_PER_STAGE; block++) {
      const strides = block === 0 ? stage.strides : 1;
      x = basicBlock(x, ctx, `${stage.name}.${block}`, stage.filters, strides, hasDownsample(stageIndex, block));
    }
  });
  const features = globalAveragePool(x, ctx, 'avgpool');

  const model = tf.model({ inputs: input, outputs: features, name: `${prefix}resnet18` });
  return {
    kind: 'resnet18',
    model,
    inputSize,
    featureDim: RESNET18_FEATURES,
    weightMap: (naming) => resnet18WeightMap(prefix, naming),
  };
}
