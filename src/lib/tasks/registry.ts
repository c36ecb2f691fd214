import type { TaskName } from '$lib/db/types';
import { DEFAULT_FASTTEXT, fastTextClassifier, SENTIMENT } from './text-classification';
import type { TaskDefinition, TrainableModel } from './types';

/** Model choices per task; stored with every run. */
export type ModelSpec = { architecture: 'fasttext'; dim?: number; buckets?: number; wordNgrams?: number; charNgrams?: [number, number] };

/** What building a model may need from the training data. */
export interface TrainableContext {
  seed: number;
  /** Class names (classification); defaults to the task's. */
  labels?: string[];
  /** Training years (coin-year), to fit the target's normalisation. */
  trainingYears?: number[];
}

export const TASKS: Record<TaskName, TaskDefinition> = {
  sentiment: SENTIMENT,
  'coin-year': {
    name: 'coin-year',
    title: 'Coin minting year',
    kind: 'regression',
    primaryMetric: 'mae',
    greaterIsBetter: false,
    guardMetrics: ['rmse'],
  },
  'car-damage': {
    name: 'car-damage',
    title: 'Car-damage severity',
    kind: 'classification',
    primaryMetric: 'accuracy',
    greaterIsBetter: true,
    guardMetrics: ['macroF1'],
    defaultLabels: ['minor', 'moderate', 'major'],
  },
};

export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

/** Builds a fresh trainable model of a task from its spec. */
export function createTrainable(task: TaskName, spec: ModelSpec, options: TrainableContext): TrainableModel {
  const definition = TASKS[task];
  if (!definition) throw new UnsupportedModelError(`unknown task "${task}"; valid: ${Object.keys(TASKS).join(', ')}`);
  switch (spec.architecture) {
    case 'fasttext': {
      if (definition.kind !== 'classification') {
        throw new UnsupportedModelError(`model.architecture "fasttext" classifies text; task ${task} needs ${definition.kind}`);
      }
      const labels = options.labels ?? [...(definition.defaultLabels ?? [])];
      return fastTextClassifier({ ...DEFAULT_FASTTEXT, ...spec, labels, seed: options.seed }, definition);
    }
    default:
      throw new UnsupportedModelError(`model.architecture ${JSON.stringify((spec as { architecture: unknown }).architecture)} is not supported for ${task}`);
  }
}
