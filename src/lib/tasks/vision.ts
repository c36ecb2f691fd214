import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import type { SmallCnnAugmentation } from '$lib/db/specs';
import { augmentRgb, NO_AUGMENTATION, type AugmentOptions } from '$lib/images/augment';
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
import { createSmallCnn, smallCnnMetadata, type SmallCnnConfig } from '$models/small-cnn';
import { classificationScores, decodeProbabilities, labelIndex, oneHotTargets } from './text-classification';
import type { Prediction, TaskDefinition, TrainableModel } from './types';
import { probabilityCrossEntropy } from './losses';

export const COIN_YEAR: TaskDefinition = {
  name: 'coin-year',
  title: 'Coin minting year',
  kind: 'regression',
  primaryMetric: 'mae',
  greaterIsBetter: false,
  guardMetrics: ['rmse'],
};

/**
 * Image classification. Its class names come from each dataset (stored on the dataset version and in
 * the model's metadata); car-damage severity is the preset label set.
 */
export const CAR_DAMAGE: TaskDefinition = {
  name: 'car-damage',
  title: 'Image classification (car-damage preset)',
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
    loss: probabilityCrossEntropy,
    toInputs: (rows, { training, random }) => imageBatch(rows, 0, inputSize, training ? augment : undefined, random),
    toTargets: (rows) => oneHotTargets(rows.map(target), labels.length),
    decode: (output) => decodeProbabilities(output, labels),
    target,
    metrics: (rows, predictions) => classificationScores(rows.map(target), predictions, labels),
    dispose: () => disposeWithBackbones(model, backbone ? [backbone] : []),
  };
}

/** How a small CNN's training images are augmented: not at all, mirrored only, or the damage policy. */
export type { SmallCnnAugmentation } from '$lib/db/specs';

export const SMALL_CNN_AUGMENTATION: Record<SmallCnnAugmentation, AugmentOptions> = {
  none: NO_AUGMENTATION,
  flip: { ...NO_AUGMENTATION, flip: true },
  default: DAMAGE_AUGMENTATION,
};

/**
 * RGB pixels (size × size × 3 bytes per image) → the small CNN's input [n, size, size, channels] in
 * [0, 1], augmented when `augment` and `random` are given. Grey (channels 1) is the mean of R, G and B:
 * exact for grey sources, which decoders hand back as R = G = B.
 */
export function smallCnnInput(images: readonly Uint8Array[], size: number, channels: 1 | 3, augment?: AugmentOptions, random?: () => number): tf.Tensor4D {
  const area = size * size;
  const pixels = new Float32Array(images.length * area * channels);
  images.forEach((data, i) => {
    if (data.length !== area * 3) throw new RangeError(`image ${i + 1} has ${data.length} bytes; ${size}×${size} RGB needs ${area * 3}`);
    const rgb = augment && random ? augmentRgb(data, size, random, augment) : data;
    const offset = i * area * channels;
    if (channels === 3) {
      for (let j = 0; j < area * 3; j++) pixels[offset + j] = rgb[j]! / 255;
    } else {
      for (let j = 0; j < area; j++) pixels[offset + j] = (rgb[3 * j]! + rgb[3 * j + 1]! + rgb[3 * j + 2]!) / 765;
    }
  });
  return tf.tensor4d(pixels, [images.length, size, size, channels]);
}

async function smallCnnBatch(rows: SampleRow[], size: number, channels: 1 | 3, augment: AugmentOptions | undefined, random: (() => number) | undefined): Promise<tf.Tensor4D> {
  const images: Uint8Array[] = [];
  for (const row of rows) {
    const blob = row.blobs?.[0];
    if (!blob) throw new Error(`sample ${row.path} has no image`);
    images.push((await decodeRgb(blob, size, row.path)).data);
  }
  return smallCnnInput(images, size, channels, augment, random);
}

/**
 * The small CNN (any label set, grey or RGB input) as a trainable model of image classification.
 * @example const trainable = smallCnnTrainable({ labels: ['shirt', 'shoe'], inputSize: 28, channels: 1 });
 */
export function smallCnnTrainable(config: SmallCnnConfig, augmentation: SmallCnnAugmentation = 'default', loaded?: tf.LayersModel): TrainableModel {
  const { model, metadata } = loaded ? { model: loaded, metadata: smallCnnMetadata(loaded) } : createSmallCnn(config);
  const { inputSize, channels, labels } = metadata;
  const augment = SMALL_CNN_AUGMENTATION[augmentation];
  const target = (row: SampleRow) => labelIndex(row.label, labels, `sample ${row.path}`);
  return {
    task: CAR_DAMAGE,
    model,
    metadata: { ...metadata },
    labels: [...labels],
    loss: probabilityCrossEntropy,
    toInputs: (rows, { training, random }) => smallCnnBatch(rows, inputSize, channels, training ? augment : undefined, random),
    toTargets: (rows) => oneHotTargets(rows.map(target), labels.length),
    decode: (output) => decodeProbabilities(output, labels),
    target,
    metrics: (rows, predictions) => classificationScores(rows.map(target), predictions, labels),
    dispose: () => model.dispose(),
  };
}
