import type { CoinRegressorConfig } from '$models/index';
import { UnsupportedModelError } from '../errors';
import { SWEEP_EXAMPLES } from './sweep-examples';
import type { TaskDefinition } from '../types';
import { resolveAugmentation } from '$lib/images/augment';
import { COIN_AUGMENTATION, coinYearTrainable } from './model';

/**
 * Coin minting year from two photos (obverse and reverse): the dual-input regressor of DESIGN.md.
 * @example TASKS['coin-year'].serving.fields.map((f) => f.name) // ['front_image_base64', 'back_image_base64']
 */
export const COIN_YEAR: TaskDefinition = {
  name: 'coin-year',
  title: 'Coin minting year',
  summary: 'front + back photo → year',
  input: 'image-pair',
  kind: 'regression',
  primaryMetric: 'mae',
  greaterIsBetter: false,
  guardMetrics: ['rmse'],
  metricNames: ['mae', 'rmse', 'r2', 'medianAe'],
  gate: { threshold: 50, minAbsoluteChange: 0.5, guardTolerance: 2 },
  presets: [],
  architectures: ['coin-regressor'],
  defaults: {
    model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 128, projection: null, dropout: 0.2, loss: 'huber' },
    epochs: 10,
    batchSize: 16,
    learningRate: 0.001,
    patience: 3,
    pipeline: {
      model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 64, projection: null, dropout: 0.2, loss: 'huber' },
      epochs: 5,
      patience: 2,
    },
  },
  dataset: {
    columns: ['front', 'back', 'year'],
    formats: 'a CSV or JSONL manifest with columns front, back, year (front/back are image paths inside the upload)',
    unit: { one: 'coin', many: 'coins' },
  },
  serving: {
    fields: [
      { name: 'front_image_base64', kind: 'image', key: 'front', label: 'front', prompt: 'Front (obverse)' },
      { name: 'back_image_base64', kind: 'image', key: 'back', label: 'back', prompt: 'Back (reverse)' },
    ],
    outputs: [{ name: 'year', type: 'double' }],
    example: { front_image_base64: '<base64 JPEG or PNG of the obverse>', back_image_base64: '<base64 JPEG or PNG of the reverse>' },
  },
  sweepExamples: SWEEP_EXAMPLES,
  card: {
    intendedUse:
      'Estimates the minting year of a coin from two photos (obverse and reverse). It is an aid for cataloguing and triage, not an authentication or valuation tool: have an expert confirm any estimate that matters.',
    limits: [
      'Trained on the coins, mints and photo conditions of its dataset; other countries, eras or lighting may give large errors.',
      'Worn or cleaned coins, and years with few training examples, are predicted worst (see the error by decade in the run).',
    ],
  },
  augmentation: COIN_AUGMENTATION,
  createTrainable(spec, context) {
    if (spec.architecture !== 'coin-regressor') throw new UnsupportedModelError(`coin-year takes ${COIN_YEAR.architectures.join(', ')}, not ${spec.architecture}`);
    if (!context.trainingTargets?.length) throw new UnsupportedModelError('the coin-year model needs the training years');
    const { architecture: _, fineTune: __, augmentation, ...config } = spec;
    const inherited = context.headFrom?.yearScale as CoinRegressorConfig['yearScale'];
    return coinYearTrainable(
      COIN_YEAR,
      { ...config, seed: context.seed, batchNormEpsilon: context.batchNormEpsilon, ...(inherited ? { yearScale: inherited } : {}) },
      context.trainingTargets,
      resolveAugmentation(augmentation, COIN_AUGMENTATION),
    );
  },
  loadTrainable: (_metadata, model) => coinYearTrainable(COIN_YEAR, { backbone: 'mobilenetv3-small' } satisfies CoinRegressorConfig, [], undefined, model),
};
