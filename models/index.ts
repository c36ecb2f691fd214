import { createCoinRegressor, type CoinRegressor, type CoinRegressorConfig } from './coin-regressor';
import { ModelConfigError } from './config';
import { createDamageClassifier, type DamageClassifier, type DamageClassifierConfig } from './damage-classifier';

export { ModelConfigError, PROJECTION_ACTIVATIONS } from './config';
export type { ProjectionActivation, ProjectionConfig, VisionModelConfig } from './config';
export * from './coin-regressor';
export * from './damage-classifier';
export { createBackbone, BACKBONE_KINDS, IMAGENET_MEAN, IMAGENET_STD, normalizeImageNet } from './backbones/index';
export type { Backbone, BackboneKind, BackboneOptions, WeightNaming } from './backbones/index';
export { countParameters } from './backbones/params';

export const VISION_ARCHITECTURES = ['coin-regressor', 'damage-classifier'] as const;
export type VisionArchitecture = (typeof VISION_ARCHITECTURES)[number];

/** A vision model's configuration, discriminated on `architecture`. */
export type VisionModelSpec = ({ architecture: 'coin-regressor' } & CoinRegressorConfig) | ({ architecture: 'damage-classifier' } & DamageClassifierConfig);

export type VisionModel = ({ architecture: 'coin-regressor' } & CoinRegressor) | ({ architecture: 'damage-classifier' } & DamageClassifier);

/**
 * Builds a backbone model: the dual-input year regressor or the single-image classifier. Throws
 * `ModelConfigError` naming the field of a bad setting.
 * @example
 * const built = createModel({ architecture: 'coin-regressor', backbone: 'resnet18', mode: 'dual', inputSize: 128 });
 * built.model.summary();
 */
export function createModel(config: VisionModelSpec): VisionModel {
  if (typeof config !== 'object' || config === null) throw new ModelConfigError('config', 'an object with an architecture', config);
  switch (config.architecture) {
    case 'coin-regressor':
      return { architecture: 'coin-regressor', ...createCoinRegressor(config) };
    case 'damage-classifier':
      return { architecture: 'damage-classifier', ...createDamageClassifier(config) };
    default: {
      const unknown: never = config;
      throw new ModelConfigError('architecture', `one of ${VISION_ARCHITECTURES.join(', ')}`, (unknown as { architecture: unknown }).architecture);
    }
  }
}
