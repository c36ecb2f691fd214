import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import { augmentRgb, type AugmentOptions } from '$lib/images/augment';
import { decodeRgb } from '$lib/images/decode';
import { regressionMetrics } from '$lib/training/metrics';
import {
  coinRegressorMetadata,
  coinYearLoss,
  createCoinRegressor,
  damageClassifierMetadata,
  createDamageClassifier,
  denormalizeYears,
  fitYearScale,
  normalizeImageNet,
  normalizeYears,
  type CoinRegressorConfig,
  type DamageClassifierConfig,
} from '$models/index';
import { classificationScores, decodeProbabilities, labelIndex, oneHotTargets } from './text-classification';
import type { Prediction, TaskDefinition, TrainableModel } from './types';

export const COIN_YEAR: TaskDefinition = {
  name: 'coin-year',
  title: 'Coin minting year',
  kind: 'regression',
  primaryMetric: 'mae',
  greaterIsBetter: false,
  guardMetrics: ['rmse'],
};

export const CAR_DAMAGE: TaskDefinition = {
  name: 'car-damage',
  title: 'Car-damage severity',
  kind: 'classification',
  primaryMetric: 'accuracy',
  greaterIsBetter: true,
  guardMetrics: ['macroF1'],
  defaultLabels: ['minor', 'moderate', 'major'],
};

/** Coins keep their orientation cues (no mirroring: it would mirror the digits of the year). */
export const COIN_AUGMENTATION: AugmentOptions = { flip: false, rotateDegrees: 10, brightness: 0.2, contrast: 0.2 };
export const DAMAGE_AUGMENTATION: AugmentOptions = { flip: true, rotateDegrees: 8, brightness: 0.2, contrast: 0.2 };

/** Decodes one image per row (blob `index`), augments when training, returns [n, size, size, 3] normalized. */
async function imageBatch(
  rows: SampleRow[],
  index: number,
  size: number,
  augment: AugmentOptions | undefined,
  random: (() => number) | undefined,
): Promise<tf.Tensor4D> {
  const pixels = new Float32Array(rows.length * size * size * 3);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const blob = row.blobs?.[index];
    if (!blob) throw new Error(`sample ${row.path} has no image ${index + 1}`);
    const { data } = await decodeRgb(blob, size, row.path);
    pixels.set(augment && random ? augmentRgb(data, size, random, augment) : data, i * size * size * 3);
  }
  return tf.tidy(() => normalizeImageNet(tf.tensor4d(pixels, [rows.length, size, size, 3])));
}

/**
 * A backbone applied to two inputs holds two references, and disposing the outer model releases one:
 * release the rest so no weight outlives the model.
 */
function disposeWithBackbones(model: tf.LayersModel, backbones: { model: tf.LayersModel }[]): void {
  model.dispose();
  for (const { model: nested } of backbones) {
    try {
      while (nested.dispose().refCountAfterDispose > 0);
    } catch {
      // Already disposed through the outer model.
    }
  }
}

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
  config: CoinRegressorConfig,
  trainingYears: number[],
  augment = COIN_AUGMENTATION,
  loaded?: tf.LayersModel,
): TrainableModel {
  const { model, metadata, backbones } = loaded
    ? { model: loaded, metadata: coinRegressorMetadata(loaded), backbones: [] }
    : createCoinRegressor({ ...config, yearScale: config.yearScale ?? fitYearScale(trainingYears) });
  const { inputSize, yearScale } = metadata;
  return {
    task: COIN_YEAR,
    model,
    metadata: { architecture: 'coin-regressor', ...metadata },
    loss: coinYearLoss(metadata.loss, metadata.huberDelta),
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

/** The single-image damage classifier (any label list) as a trainable model. */
export function damageTrainable(config: DamageClassifierConfig, augment = DAMAGE_AUGMENTATION, loaded?: tf.LayersModel): TrainableModel {
  const { model, metadata, backbone } = loaded
    ? { model: loaded, metadata: damageClassifierMetadata(loaded), backbone: undefined }
    : createDamageClassifier(config);
  const { inputSize, labels } = metadata;
  const target = (row: SampleRow) => labelIndex(row.label, labels, `sample ${row.path}`);
  return {
    task: CAR_DAMAGE,
    model,
    metadata: { architecture: 'damage-classifier', ...metadata },
    labels,
    loss: (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, tf.log(tf.clipByValue(yPred, 1e-7, 1))) as tf.Scalar,
    toInputs: (rows, { training, random }) => imageBatch(rows, 0, inputSize, training ? augment : undefined, random),
    toTargets: (rows) => oneHotTargets(rows.map(target), labels.length),
    decode: (output) => decodeProbabilities(output, labels),
    target,
    metrics: (rows, predictions) => classificationScores(rows.map(target), predictions, labels),
    dispose: () => disposeWithBackbones(model, backbone ? [backbone] : []),
  };
}
