import type { SweepExample } from '../types';

/** Starting points for the sweep editor (each a valid sweep definition; a unit test validates them). */
export const SWEEP_EXAMPLES: SweepExample[] = [
  {
    title: 'Grid: NB-SVM regularisation C × interpolation β',
    definition: {
      name: 'NB-SVM grid',
      task: 'text-classification',
      method: 'grid',
      metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: {
        architecture: { value: 'nbsvm' },
        C: { values: [0.1, 1, 10] },
        beta: { values: [0.25, 1] },
        epochs: { value: 10 },
      },
    },
  },
  {
    title: 'Random search: learning rate and width, hyperband',
    definition: {
      name: 'fastText random search',
      task: 'text-classification',
      method: 'random',
      metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: {
        architecture: { value: 'fasttext' },
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
      task: 'text-classification',
      method: 'grid',
      metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: {
        architecture: { value: 'fasttext' },
        learningRate: { values: [0.01, 0.05] },
        dim: { values: [8, 32] },
        epochs: { value: 3 },
      },
    },
  },
  {
    title: 'Grid: NB-SVM, fastText and the lexicon-aware model',
    definition: {
      name: 'text model grid',
      task: 'text-classification',
      method: 'grid',
      metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: {
        architecture: { values: ['nbsvm', 'fasttext', 'lexicon-fasttext'] },
        ngramDropout: { value: 0.8 }, // the lexicon-aware model's; fastText has none
        epochs: { value: 4 },
      },
    },
  },
  {
    title: 'Bayesian (TPE): rate, width, n-grams',
    definition: {
      name: 'fastText bayes',
      task: 'text-classification',
      method: 'bayes',
      metric: { name: 'val_macroF1', goal: 'maximize' },
      parameters: {
        architecture: { value: 'fasttext' },
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
];
