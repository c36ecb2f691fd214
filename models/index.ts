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

export const VISION_TASKS = ['coin-year', 'car-damage'] as const;
export type VisionTask = (typeof VISION_TASKS)[number];

/** A task's model configuration, discriminated on `task`. */
export type TaskModelConfig = ({ task: 'coin-year' } & CoinRegressorConfig) | ({ task: 'car-damage' } & DamageClassifierConfig);

export type TaskModel = ({ task: 'coin-year' } & CoinRegressor) | ({ task: 'car-damage' } & DamageClassifier);

/**
 * Builds the model of a vision task. Throws `ModelConfigError` naming the field of a bad setting.
 * @example
 * const built = createModel({ task: 'coin-year', backbone: 'resnet18', mode: 'dual', inputSize: 128 });
 * if (built.task === 'coin-year') built.model.summary();
 */
export function createModel(config: TaskModelConfig): TaskModel {
  if (typeof config !== 'object' || config === null) throw new ModelConfigError('config', 'an object with a task', config);
  switch (config.task) {
    case 'coin-year':
      return { task: 'coin-year', ...createCoinRegressor(config) };
    case 'car-damage':
      return { task: 'car-damage', ...createDamageClassifier(config) };
    default: {
      const unknown: never = config;
      throw new ModelConfigError('task', `one of ${VISION_TASKS.join(', ')}`, (unknown as { task: unknown }).task);
    }
  }
}
