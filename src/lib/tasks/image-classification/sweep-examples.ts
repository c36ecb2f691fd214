import type { SweepExample } from '../types';

/** Starting points for the sweep editor (each a valid sweep definition; a unit test validates them). */
export const SWEEP_EXAMPLES: SweepExample[] = [
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
];
