import type { SweepExample } from '../types';

/** Starting points for the sweep editor (each a valid sweep definition; a unit test validates them). */
export const SWEEP_EXAMPLES: SweepExample[] = [
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
];
