import * as tf from '@tensorflow/tfjs';
import type { FineTuneSchedule } from '$lib/db/specs';
import type { Backbone } from '$models/backbones/index';
import { ConstantsAdam } from './adam';

export type { FineTuneSchedule } from '$lib/db/specs';

export class FineTuneError extends Error {
  override name = 'FineTuneError';
}

/** What one epoch of a fine-tuning schedule trains with. */
export interface EpochRates {
  /** Whether the backbone is frozen this epoch. */
  frozen: boolean;
  /** The head's learning rate. */
  learningRate: number;
  /** The backbone's (0 while frozen). */
  backboneLearningRate: number;
}

/**
 * The learning rates of epoch `epoch` (1-based) of `epochs`: linear warm-up over the first `warmupEpochs`
 * (epoch k of w trains at k/w × the rate), then, with `cosine`, ½(1 + cos(π·t)) × the rate where t runs
 * from 0 at the first epoch after the warm-up to 1 after the last; the backbone trains at
 * `backboneLrMultiplier` × that once its `freezeEpochs` are over.
 * @example epochRates({ freezeEpochs: 1, backboneLrMultiplier: 0.1, warmupEpochs: 0, cosine: false }, 2, 3, 1e-3) // { frozen: false, learningRate: 1e-3, backboneLearningRate: 1e-4 }
 */
export function epochRates(schedule: FineTuneSchedule, epoch: number, epochs: number, learningRate: number): EpochRates {
  const warmup = schedule.warmupEpochs ?? 0;
  let factor = 1;
  if (epoch <= warmup) factor = epoch / warmup;
  else if (schedule.cosine) {
    const span = epochs - warmup;
    factor = span > 0 ? 0.5 * (1 + Math.cos((Math.PI * (epoch - warmup - 1)) / span)) : 1;
  }
  const frozen = epoch <= (schedule.freezeEpochs ?? 0);
  const rate = learningRate * factor;
  return { frozen, learningRate: rate, backboneLearningRate: frozen ? 0 : rate * (schedule.backboneLrMultiplier ?? 1) };
}

/** Checks a schedule against the run it belongs to; the error names the setting. */
export function checkSchedule(schedule: FineTuneSchedule, epochs: number, optimizer: string): void {
  const freeze = schedule.freezeEpochs ?? 0;
  const warmup = schedule.warmupEpochs ?? 0;
  if (!Number.isInteger(freeze) || freeze < 0) throw new FineTuneError(`model.fineTune.freezeEpochs must be a whole number ≥ 0, got ${freeze}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new FineTuneError(`model.fineTune.warmupEpochs must be a whole number ≥ 0, got ${warmup}`);
  const multiplier = schedule.backboneLrMultiplier ?? 1;
  if (!(multiplier > 0 && multiplier <= 10)) throw new FineTuneError(`model.fineTune.backboneLrMultiplier must be in (0, 10], got ${multiplier}`);
  if (warmup >= epochs && warmup > 0) throw new FineTuneError(`model.fineTune.warmupEpochs (${warmup}) must be fewer than the run's ${epochs} epochs`);
  // Adam is invariant to a gradient's scale, so the rates must be the optimizer's own: only Loupe's Adam takes them per variable.
  if (optimizer !== 'adam' && (multiplier !== 1 || warmup > 0 || schedule.cosine)) {
    throw new FineTuneError(`model.fineTune's backbone multiplier, warm-up and cosine decay need the adam optimizer, not ${optimizer}`);
  }
}

/**
 * Drives a fine-tuning schedule through the training loop: before each epoch it freezes or unfreezes the
 * backbones and sets the optimizer's rates. `variables` is every trainable variable in a fixed order,
 * for `TrainLoopOptions.variables`.
 */
export function scheduleDriver(
  schedule: FineTuneSchedule,
  backbones: readonly Backbone[],
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  epochs: number,
  learningRate: number,
): { variables: tf.Variable[]; beforeEpoch: (epoch: number) => EpochRates } {
  const backboneWeights = backbones.flatMap((b) => b.model.weights.filter((w) => w.trainable));
  const names = new Set(backboneWeights.map((w) => (w.read() as tf.Variable).name));
  // Every weight that trains at some point, in the model's order, read before anything is frozen.
  const variables = model.weights.filter((w) => w.trainable).map((w) => w.read() as tf.Variable);
  return {
    variables,
    beforeEpoch(epoch) {
      const rates = epochRates(schedule, epoch, epochs, learningRate);
      setBackbonesFrozen(backbones, rates.frozen);
      if (optimizer instanceof ConstantsAdam) optimizer.setLearningRates(rates.learningRate, { names, learningRate: rates.backboneLearningRate });
      return rates;
    },
  };
}

/**
 * Freezes (or unfreezes) backbones: their variables leave the trainable set, so no gradient of theirs is
 * computed, and their BatchNorm layers run in inference mode (LoupeBatchNormalization reads γ's flag), so
 * the running statistics stay as they are.
 *
 * Why the tf.Variable's flag and not `layer.trainable`: tfjs-layers lists a model's weights trainable
 * first, so freezing a layer would reorder `model.weights` — and checkpoints, early stopping's best weights
 * and `setWeights` all go by that order.
 */
export function setBackbonesFrozen(backbones: readonly Backbone[], frozen: boolean): void {
  for (const backbone of backbones) {
    for (const weight of backbone.model.weights) if (weight.trainable) (weight.read() as tf.Variable).trainable = !frozen;
  }
}
