import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import type { AugmentOptions } from '$lib/images/augment';
import {
  coinRegressorMetadata,
  coinYearLoss,
  createCoinRegressor,
  denormalizeYears,
  fitYearScale,
  normalizeYears,
  type CoinRegressorConfig,
} from '$models/index';
import { disposeWithBackbones, imageBatch } from '../images';
import { regressionMetrics } from '../metrics';
import type { Prediction, TaskDefinition, TrainableModel } from '../types';

/** Coins keep their orientation cues (no mirroring: it would mirror the digits of the year). */
export const COIN_AUGMENTATION: AugmentOptions = { flip: false, rotateDegrees: 10, brightness: 0.2, contrast: 0.2 };

function yearOf(row: SampleRow): number {
  const year = typeof row.label === 'number' ? row.label : Number(row.label);
  if (!Number.isFinite(year)) throw new Error(`sample ${row.path}: year ${JSON.stringify(row.label)} is not a number`);
  return year;
}

/**
 * The dual-input coin-year regressor as a trainable model. The year scale (mean/std) is fitted on the
 * training years and saved with the model, so predictions come back in years.
 */
export function coinYearTrainable(
  task: TaskDefinition,
  config: CoinRegressorConfig,
  trainingYears: number[],
  augment = COIN_AUGMENTATION,
  loaded?: tf.LayersModel,
): TrainableModel {
  const { model, metadata, backbones } = loaded
    ? { model: loaded, metadata: coinRegressorMetadata(loaded), backbones: [] }
    : createCoinRegressor({ ...config, yearScale: config.yearScale ?? fitYearScale(trainingYears) });
  const { inputSize, yearScale } = metadata;
  const saved = { ...metadata, task: task.name, architecture: 'coin-regressor' };
  model.setUserDefinedMetadata({ loupe: saved });
  return {
    task,
    model,
    metadata: saved,
    loss: coinYearLoss(metadata.loss, metadata.huberDelta),
    augmentation: augment,
    async toInputs(rows, { training, random }) {
      const policy = training ? augment : undefined;
      const front = await imageBatch(rows, 0, inputSize, policy, random);
      try {
        return [front, await imageBatch(rows, 1, inputSize, policy, random)];
      } catch (error) {
        front.dispose();
        throw error;
      }
    },
    toTargets: (rows) => normalizeYears(rows.map(yearOf), yearScale),
    async decode(output) {
      const years = denormalizeYears(output, yearScale);
      const values = await years.data();
      years.dispose();
      return Array.from(values, (value): Prediction => ({ kind: 'regression', value }));
    },
    target: yearOf,
    metrics(rows, predictions) {
      const predicted = predictions.map((p) => (p.kind === 'regression' ? p.value : Number.NaN));
      return { ...regressionMetrics(rows.map(yearOf), predicted) };
    },
    dispose: () => disposeWithBackbones(model, backbones),
  };
}
