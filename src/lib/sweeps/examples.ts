import { stringify } from 'yaml';
import type { TaskName } from '$lib/db/types';

/** Starting points for the definition editor, per task (each is a valid definition). */
export interface SweepExample {
  title: string;
  definition: Record<string, unknown>;
}

export const SWEEP_EXAMPLES: Record<TaskName, SweepExample[]> = {
  sentiment: [
    {
      title: 'Random search: learning rate and width, hyperband',
      definition: {
        name: 'fastText random search',
        task: 'sentiment',
        method: 'random',
        metric: { name: 'val_accuracy', goal: 'maximize' },
        parameters: {
          learningRate: { distribution: 'log_uniform_values', min: 0.005, max: 0.2 },
          dim: { values: [8, 16, 32] },
          epochs: { value: 4 },
          batchSize: { value: 32 },
        },
        early_terminate: { type: 'hyperband', min_iter: 1, eta: 2 },
        run_cap: 6,
        seed: 1,
      },
    },
    {
      title: 'Grid: 2 learning rates × 2 widths',
      definition: {
        name: 'fastText grid',
        task: 'sentiment',
        method: 'grid',
        metric: { name: 'val_accuracy', goal: 'maximize' },
        parameters: {
          learningRate: { values: [0.01, 0.05] },
          dim: { values: [8, 32] },
          epochs: { value: 3 },
        },
      },
    },
    {
      title: 'Grid: fastText against the lexicon-aware model',
      definition: {
        name: 'text model grid',
        task: 'sentiment',
        method: 'grid',
        metric: { name: 'val_accuracy', goal: 'maximize' },
        parameters: {
          architecture: { values: ['fasttext', 'lexicon-fasttext'] },
          ngramDropout: { value: 0.8 }, // the lexicon-aware model's; fastText has none
          epochs: { value: 4 },
        },
      },
    },
    {
      title: 'Bayesian (TPE): rate, width, n-grams',
      definition: {
        name: 'fastText bayes',
        task: 'sentiment',
        method: 'bayes',
        metric: { name: 'val_macroF1', goal: 'maximize' },
        parameters: {
          learningRate: { distribution: 'log_uniform_values', min: 0.002, max: 0.3 },
          dim: { distribution: 'q_uniform', min: 8, max: 64, q: 8 },
          charNgrams: { values: [[0, 0], [3, 5], [2, 4]] },
          epochs: { value: 5 },
        },
        early_terminate: { type: 'hyperband', min_iter: 2, eta: 3 },
        run_cap: 12,
        seed: 7,
      },
    },
  ],
  'coin-year': [
    {
      title: 'Random search: backbone, sides, input size, projection',
      definition: {
        name: 'coin-year random search',
        task: 'coin-year',
        method: 'random',
        metric: { name: 'val_mae', goal: 'minimize' },
        parameters: {
          backbone: { values: ['mobilenetv3-small', 'resnet18'] },
          mode: { values: ['dual', 'shared'] },
          inputSize: { values: [64, 96] },
          projectionUnits: { values: [0, 128] },
          learningRate: { distribution: 'log_uniform_values', min: 0.0001, max: 0.003 },
          epochs: { value: 3 },
        },
        early_terminate: { type: 'hyperband', min_iter: 1, eta: 3 },
        run_cap: 4,
        seed: 1,
      },
    },
  ],
  'image-classification': [
    {
      title: 'Grid: input size × dropout',
      definition: {
        name: 'image classifier grid',
        task: 'image-classification',
        method: 'grid',
        metric: { name: 'val_accuracy', goal: 'maximize' },
        parameters: {
          backbone: { value: 'mobilenetv3-small' },
          inputSize: { values: [64, 96] },
          dropout: { values: [0.1, 0.3] },
          learningRate: { value: 0.001 },
          epochs: { value: 3 },
        },
      },
    },
  ],
};

export type DefinitionFormat = 'yaml' | 'json';

/** A definition as editor text. */
export function formatDefinition(definition: unknown, format: DefinitionFormat): string {
  return format === 'json' ? `${JSON.stringify(definition, null, 2)}\n` : stringify(definition, { flowCollectionPadding: false, collectionStyle: 'any' });
}
