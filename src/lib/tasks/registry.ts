import type { ModelSpec, TaskName } from '$lib/db/specs';
import { DEFAULT_FASTTEXT, fastTextClassifier, SENTIMENT } from './text-classification';
import { DEFAULT_LEXICON_FASTTEXT, lexiconClassifier } from './lexicon-text';
import { encoderHeadClassifier, transformerClassifier } from './text-encoder-models';
import type { TaskDefinition, TrainableModel } from './types';
import { CAR_DAMAGE, COIN_YEAR, coinYearTrainable, damageTrainable, smallCnnTrainable } from './vision';

export type { ModelSpec } from '$lib/db/specs';

/** What building a model may need from the training data. */
export interface TrainableContext {
  seed: number;
  /** Class names (classification): the dataset's; defaults to the task's preset. */
  labels?: string[];
  /** Training years (coin-year), to fit the target's normalisation. */
  trainingYears?: number[];
}

export const TASKS: Record<TaskName, TaskDefinition> = {
  'coin-year': COIN_YEAR,
  'car-damage': CAR_DAMAGE,
  sentiment: SENTIMENT,
};

export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

/** Builds a fresh trainable model of a task from its spec. */
export function createTrainable(task: TaskName, spec: ModelSpec, context: TrainableContext): TrainableModel {
  const definition = TASKS[task];
  if (!definition) throw new UnsupportedModelError(`unknown task "${task}"; valid: ${Object.keys(TASKS).join(', ')}`);
  const mismatch = (architecture: string, needs: TaskName) =>
    new UnsupportedModelError(`model.architecture "${architecture}" is for ${needs}, not ${task}`);
  const labels = context.labels ?? [...(definition.defaultLabels ?? [])];
  switch (spec.architecture) {
    case 'fasttext': {
      if (definition.kind !== 'classification') {
        throw new UnsupportedModelError(`model.architecture "fasttext" classifies text; task ${task} needs ${definition.kind}`);
      }
      const { architecture: _, ...settings } = spec;
      return fastTextClassifier({ ...DEFAULT_FASTTEXT, ...settings, labels, seed: context.seed }, definition);
    }
    case 'lexicon-fasttext': {
      if (definition.kind !== 'classification') {
        throw new UnsupportedModelError(`model.architecture "lexicon-fasttext" classifies text; task ${task} needs ${definition.kind}`);
      }
      const { architecture: _, ...settings } = spec;
      return lexiconClassifier({ ...DEFAULT_LEXICON_FASTTEXT, ...settings, labels, seed: context.seed }, definition);
    }
    case 'coin-regressor': {
      if (task !== 'coin-year') throw mismatch(spec.architecture, 'coin-year');
      const { architecture: _, ...config } = spec;
      if (!context.trainingYears?.length) throw new UnsupportedModelError('the coin-year model needs the training years');
      return coinYearTrainable({ ...config, seed: context.seed }, context.trainingYears);
    }
    case 'damage-classifier': {
      if (task !== 'car-damage') throw mismatch(spec.architecture, 'car-damage');
      const { architecture: _, ...config } = spec;
      return damageTrainable({ ...config, labels, seed: context.seed });
    }
    case 'small-cnn': {
      if (task !== 'car-damage') throw mismatch(spec.architecture, 'car-damage');
      const { architecture: _, augmentation, ...config } = spec;
      return smallCnnTrainable({ ...config, labels, seed: context.seed }, augmentation);
    }
    case 'transformer':
    case 'encoder-head': {
      if (definition.kind !== 'classification') {
        throw new UnsupportedModelError(`model.architecture "${spec.architecture}" classifies text; task ${task} needs ${definition.kind}`);
      }
      if (spec.architecture === 'transformer') return transformerClassifier(spec.model, labels, definition);
      const { architecture: _, ...config } = spec;
      return encoderHeadClassifier({ ...config, labels, seed: context.seed }, definition);
    }
    default:
      throw new UnsupportedModelError(
        `model.architecture ${JSON.stringify((spec as { architecture: unknown }).architecture)} is not supported; valid: fasttext, lexicon-fasttext, coin-regressor, damage-classifier, small-cnn, transformer, encoder-head`,
      );
  }
}
