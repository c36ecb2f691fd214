import type * as tf from '@tensorflow/tfjs';

export const BACKBONE_KINDS = ['resnet18', 'mobilenetv3-small'] as const;
export type BackboneKind = (typeof BACKBONE_KINDS)[number];

export interface BackboneOptions {
  /** Height = width of the square input, a multiple of 32 (both backbones downsample 32×). Default 224. */
  inputSize?: number;
  /** Prepended to every layer name, so two backbones can live in one model (e.g. `front_`, `back_`). */
  namePrefix?: string;
  /** Seed of the weight initializers, for reproducible training from scratch. Default 1. */
  seed?: number;
  /**
   * BatchNorm epsilon. Defaults to torchvision's (1e-5 for ResNet18, 1e-3 for MobileNetV3); timm trained its
   * MobileNetV3 with 1e-5, so pass that when importing timm weights.
   */
  batchNormEpsilon?: number;
  /**
   * BatchNorm momentum, torch's convention (the weight of each new batch in the running statistics).
   * Defaults to torchvision's (0.1 for ResNet18, 0.01 for MobileNetV3, tuned for long ImageNet schedules).
   */
  batchNormMomentum?: number;
}

/** Whose parameter names a checkpoint uses. timm's ResNet uses torchvision's names. */
export type WeightNaming = 'torchvision' | 'timm';

/** The kind of a torch module with weights, which fixes how its tensors map onto tfjs weights. */
export type TorchModuleKind = 'conv' | 'depthwise' | 'batchnorm' | 'linear';

/** One torch module with weights (conv, BN, …) and the tfjs layer that holds them. */
export interface TorchModule {
  /** Module path in the checkpoint, without the parameter name: `layer1.0.conv1`. */
  source: string;
  /** Our layer's name: `layer1_0_conv1` (plus the backbone's name prefix). */
  layer: string;
  kind: TorchModuleKind;
}

export interface TorchWeightMap {
  modules: TorchModule[];
  /** Tensors a full checkpoint has that a feature extractor does not use (classifier, BN step counters). */
  ignore: RegExp[];
}

/**
 * A feature extractor: ImageNet-normalized NHWC float32 images → pooled features.
 * @example
 * const backbone = createBackbone('mobilenetv3-small', { inputSize: 128 });
 * const features = backbone.model.predict(normalizeImageNet(images)) as tf.Tensor2D; // [batch, 576]
 */
export interface Backbone {
  readonly kind: BackboneKind;
  /** `[batch, inputSize, inputSize, 3]` → `[batch, featureDim]` (everything up to global average pooling). */
  readonly model: tf.LayersModel;
  readonly inputSize: number;
  readonly featureDim: number;
  /** Which checkpoint tensor goes into which of our layers, for a checkpoint with the given names. */
  weightMap(naming: WeightNaming): TorchWeightMap;
}
