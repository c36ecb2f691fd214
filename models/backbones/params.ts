import type * as tf from '@tensorflow/tfjs';

/**
 * Parameter counts as torch reports them: trainable = `sum(p.numel() for p in model.parameters())`;
 * non-trainable = BatchNorm running statistics (torch buffers).
 * @example countParameters(createBackbone('resnet18').model).trainable // 11_176_512
 */
export function countParameters(model: tf.LayersModel): { trainable: number; nonTrainable: number } {
  const size = (weights: tf.LayerVariable[]) => weights.reduce((sum, w) => sum + w.shape.reduce<number>((n, d) => n * (d ?? 0), 1), 0);
  return { trainable: size(model.trainableWeights), nonTrainable: size(model.nonTrainableWeights) };
}
