import { describe, expect, it } from 'vitest';
import { flatParams, runFigures } from '$lib/training/run-figures';

describe('run figures', () => {
  it('separates validation figures, training figures and the epochs run', () => {
    expect(runFigures({ val_accuracy: 0.9, val_loss: 0.3, accuracy: 0.97, loss: 0.1, epochs: 6 })).toEqual({
      validation: [['accuracy', 0.9], ['loss', 0.3]],
      training: [['accuracy', 0.97], ['loss', 0.1]],
      epochsRun: 6,
    });
    expect(runFigures(undefined)).toEqual({ validation: [], training: [] });
  });

  it('lists each setting once: the model spec field by field, without what the run row states itself', () => {
    const rows = flatParams({ task: 'sentiment', datasetId: 'd1', seed: 42, name: 'run', epochs: 3, learningRate: 0.05, model: { architecture: 'fasttext', dim: 8, charNgrams: [3, 5] } });
    expect(rows).toEqual([
      ['epochs', 3],
      ['learningRate', 0.05],
      ['model.architecture', 'fasttext'],
      ['model.charNgrams', [3, 5]],
      ['model.dim', 8],
    ]);
  });
});
