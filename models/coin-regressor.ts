import * as tf from '@tensorflow/tfjs';
import { createBackbone } from './backbones/index';
import type { Backbone, BackboneKind } from './backbones/types';
import { check, checkVisionConfig, type ProjectionConfig, TASK_BATCH_NORM_MOMENTUM, type VisionModelConfig } from './config';
import { head } from './head';

export type CoinMode = 'dual' | 'shared';
export const COIN_MODES: readonly CoinMode[] = ['dual', 'shared'];
export type CoinLoss = 'mse' | 'huber';
export const COIN_LOSSES: readonly CoinLoss[] = ['mse', 'huber'];
export const DEFAULT_COIN_INPUTS = ['front', 'back'] as const;

/** The model predicts (year − mean) / std; these come from the training years and travel with the model. */
export interface YearScale {
  mean: number;
  std: number;
}

export interface CoinRegressorConfig extends VisionModelConfig {
  /** 'dual': one backbone per side; 'shared': one backbone applied to both sides. Default 'dual'. */
  mode?: CoinMode;
  /** Input names, obverse first. Default ['front', 'back']. */
  inputs?: string[];
  /** Normalization of the target; fit it on the training years with `fitYearScale`. Default {0, 1}. */
  yearScale?: YearScale;
  /** Default 'huber' (robust to mislabelled years). */
  loss?: CoinLoss;
  /** Huber's threshold, in normalized units (std of the training years). Default 1. */
  huberDelta?: number;
}

/** What `createCoinRegressor` stores in model.json's `userDefinedMetadata.loupe`. */
export interface CoinRegressorMetadata {
  architecture: 'coin-regressor';
  backbone: BackboneKind;
  mode: CoinMode;
  inputSize: number;
  inputs: string[];
  projection: ProjectionConfig | null;
  dropout: number;
  loss: CoinLoss;
  huberDelta: number;
  yearScale: YearScale;
}

export interface CoinRegressor {
  /** Inputs `[front, back]`, each [batch, size, size, 3] ImageNet-normalized; output [batch, 1] normalized year. */
  model: tf.LayersModel;
  /** Shared: one; dual: [front, back]. Load pretrained weights into these (`loadTorchWeights`). */
  backbones: Backbone[];
  metadata: CoinRegressorMetadata;
}

/**
 * Two-image year regressor: backbone features of both sides, concatenated, optional projection, dropout,
 * one linear unit predicting the normalized year.
 * @example
 * const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 128,
 *   projection: { units: 256 }, yearScale: fitYearScale(trainYears) });
 * model.compile({ optimizer: tf.train.adam(1e-4), loss: coinYearLoss('huber') });
 */
export function createCoinRegressor(config: CoinRegressorConfig): CoinRegressor {
  const common = checkVisionConfig(config, config.inputs ?? [...DEFAULT_COIN_INPUTS], 2);
  const mode = config.mode ?? 'dual';
  check(COIN_MODES.includes(mode), 'mode', `one of ${COIN_MODES.join(', ')}`, mode);
  const loss = config.loss ?? 'huber';
  check(COIN_LOSSES.includes(loss), 'loss', `one of ${COIN_LOSSES.join(', ')}`, loss);
  const huberDelta = config.huberDelta ?? 1;
  check(Number.isFinite(huberDelta) && huberDelta > 0, 'huberDelta', 'a positive number', huberDelta);
  const yearScale = config.yearScale ?? { mean: 0, std: 1 };
  checkYearScale(yearScale);

  const [frontName, backName] = common.inputs as [string, string];
  const front = tf.input({ shape: [common.inputSize, common.inputSize, 3], name: frontName });
  const back = tf.input({ shape: [common.inputSize, common.inputSize, 3], name: backName });
  const backbones =
    mode === 'shared'
      ? [createBackbone(common.backbone, { inputSize: common.inputSize, seed: common.seed, batchNormMomentum: TASK_BATCH_NORM_MOMENTUM, batchNormEpsilon: common.batchNormEpsilon })]
      : [
          createBackbone(common.backbone, { inputSize: common.inputSize, seed: common.seed, batchNormMomentum: TASK_BATCH_NORM_MOMENTUM, batchNormEpsilon: common.batchNormEpsilon, namePrefix: `${frontName}_` }),
          createBackbone(common.backbone, { inputSize: common.inputSize, seed: common.seed + 1000, batchNormMomentum: TASK_BATCH_NORM_MOMENTUM, batchNormEpsilon: common.batchNormEpsilon, namePrefix: `${backName}_` }),
        ];
  // A backbone is a nested model: applying the same one to both inputs shares its weights.
  const frontFeatures = backbones[0]!.model.apply(front) as tf.SymbolicTensor;
  const backFeatures = backbones[backbones.length - 1]!.model.apply(back) as tf.SymbolicTensor;
  const fused = tf.layers.concatenate({ name: 'fusion' }).apply([frontFeatures, backFeatures]) as tf.SymbolicTensor;
  const year = head(fused, { ...common, units: 1, activation: 'linear', name: 'year' });

  const model = tf.model({ inputs: [front, back], outputs: year, name: 'coin_year' });
  const metadata: CoinRegressorMetadata = {
    architecture: 'coin-regressor',
    backbone: common.backbone,
    mode,
    inputSize: common.inputSize,
    inputs: common.inputs,
    projection: common.projection,
    dropout: common.dropout,
    loss,
    huberDelta,
    yearScale: { ...yearScale },
  };
  model.setUserDefinedMetadata({ loupe: metadata });
  return { model, backbones, metadata };
}

function checkYearScale(scale: YearScale): void {
  check(typeof scale === 'object' && scale !== null && Number.isFinite(scale.mean), 'yearScale.mean', 'a finite number', scale?.mean);
  check(Number.isFinite(scale.std) && scale.std > 0, 'yearScale.std', 'a positive number', scale.std);
}

/**
 * Mean and (population) standard deviation of the training years; std falls back to 1 when all are equal.
 * @example fitYearScale([1850, 1900, 1950]) // { mean: 1900, std: 40.82… }
 */
export function fitYearScale(years: ArrayLike<number>): YearScale {
  if (years.length === 0) throw new RangeError('fitYearScale needs at least one year');
  let sum = 0;
  for (let i = 0; i < years.length; i++) sum += years[i]!;
  const mean = sum / years.length;
  let squares = 0;
  for (let i = 0; i < years.length; i++) squares += (years[i]! - mean) ** 2;
  const std = Math.sqrt(squares / years.length);
  return { mean, std: std > 0 ? std : 1 };
}

/** Years → the training target. @example normalizeYears([1900], { mean: 1900, std: 50 }) // [[0]] */
export function normalizeYears(years: ArrayLike<number>, scale: YearScale): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.sub(tf.tensor2d(Array.from(years), [years.length, 1]), scale.mean), scale.std) as tf.Tensor2D);
}

/** The model's output → years. @example denormalizeYears(model.predict([front, back]) as tf.Tensor, scale) */
export function denormalizeYears(normalized: tf.Tensor, scale: YearScale): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(normalized, scale.std), scale.mean));
}

/** The metadata a coin regressor carries (also after `loadFromBlobs`); throws for other models. */
export function coinRegressorMetadata(model: tf.LayersModel): CoinRegressorMetadata {
  const metadata = (model.getUserDefinedMetadata() as { loupe?: CoinRegressorMetadata & { task?: string } } | undefined)?.loupe;
  // Older versions say only `task: 'coin-year'`.
  if (metadata?.architecture !== 'coin-regressor' && metadata?.task !== 'coin-year') {
    throw new Error(`model '${model.name}' carries no coin-regressor metadata (userDefinedMetadata.loupe)`);
  }
  return { ...metadata, architecture: 'coin-regressor' };
}

/** Stores a new year scale with the model (e.g. after fitting it on a new training split). */
export function setYearScale(model: tf.LayersModel, scale: YearScale): void {
  checkYearScale(scale);
  const existing = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  model.setUserDefinedMetadata({ ...existing, loupe: { ...coinRegressorMetadata(model), yearScale: { ...scale } } });
}

/**
 * Predicts years (denormalized with the scale stored in the model) and frees every intermediate tensor.
 * @example const [year] = await predictYears(model, front, back); // 1862.4
 */
export async function predictYears(model: tf.LayersModel, front: tf.Tensor4D, back: tf.Tensor4D): Promise<number[]> {
  const { yearScale, inputSize } = coinRegressorMetadata(model);
  for (const [side, images] of [['front', front], ['back', back]] as const) {
    if (images.rank !== 4 || images.shape[1] !== inputSize || images.shape[2] !== inputSize || images.shape[3] !== 3) {
      throw new RangeError(`${side} images must be [batch, ${inputSize}, ${inputSize}, 3], got [${images.shape.join(', ')}]`);
    }
  }
  if (front.shape[0] !== back.shape[0]) throw new RangeError(`front and back batches differ: ${front.shape[0]} vs ${back.shape[0]}`);
  const years = tf.tidy(() => denormalizeYears(model.predict([front, back]) as tf.Tensor, yearScale));
  try {
    return Array.from(await years.data());
  } finally {
    years.dispose();
  }
}

/**
 * The training loss on normalized years.
 * @example model.compile({ optimizer: 'adam', loss: coinYearLoss('huber', 1) })
 */
export function coinYearLoss(kind: CoinLoss = 'huber', delta = 1): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar {
  check(COIN_LOSSES.includes(kind), 'loss', `one of ${COIN_LOSSES.join(', ')}`, kind);
  check(Number.isFinite(delta) && delta > 0, 'huberDelta', 'a positive number', delta);
  if (kind === 'mse') return (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred) as tf.Scalar;
  return (yTrue, yPred) => tf.losses.huberLoss(yTrue, yPred, undefined, delta) as tf.Scalar;
}
