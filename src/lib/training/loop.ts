import * as tf from '@tensorflow/tfjs';
import type { ProgressCallback } from '$lib/progress';
import { dropoutSeeds } from './dropout-seeds';
import type { EarlyStopping } from './early-stopping';
import { minimizeInMicroBatches } from './micro-batches';

/** One batch; the loop disposes its tensors once the step is done. */
export interface Batch {
  xs: tf.Tensor | tf.Tensor[];
  ys: tf.Tensor;
  size: number;
}

/** Yields an epoch's batches; `epoch` lets the source derive that epoch's shuffle and augmentation seeds. */
export type BatchSource = (epoch: number) => AsyncIterable<Batch>;

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

export interface TrainLoopOptions {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  loss: LossFn;
  train: BatchSource;
  batchesPerEpoch: number;
  epochs: number;
  /** Epoch to start from (1-based); a resumed run starts after its last checkpoint. */
  startEpoch?: number;
  /** Validation metrics after each epoch (keys such as `val_loss`, `val_mae`). */
  validate: (epoch: number) => Promise<Record<string, number>>;
  earlyStopping?: EarlyStopping;
  /** Epochs already run (when resuming), and the best weights kept so far. */
  resumeFrom?: { history: TrainLoopResult['history']; bestWeights?: tf.Tensor[] };
  /** Called after each epoch, e.g. to store metrics and a checkpoint, before the next begins. */
  onEpochEnd?: (epoch: number, metrics: Record<string, number>, state: LoopSnapshot) => Promise<void>;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Read the loss back every this many batches: each read waits for the GPU. */
  readEvery?: number;
  /**
   * Asked after each epoch (once it is checkpointed) whether to end the run there, e.g. by a sweep's
   * hyperband; a run stopped this way completes normally with that epoch's metrics.
   */
  shouldStop?: StopCheck;
  /** Examples per gradient computation when a batch is too big for the backend's memory (micro-batches.ts). */
  microBatch?: number;
  /**
   * The model's trainable variables in a fixed order, when some may be frozen (fine-tuning): only the
   * trainable ones get gradients, and the optimizer's slots keep their places (micro-batches.ts).
   */
  variables?: readonly tf.Variable[];
  /**
   * Called before each epoch's first batch: a fine-tuning schedule freezes or unfreezes and sets learning
   * rates. It may return what the epoch trains instead of `model` on `train`: a frozen backbone's epochs
   * train the head alone on the backbone's features.
   */
  beforeEpoch?: (epoch: number) => EpochOverride | void;
}

/** An epoch that trains part of the model: `forward` (sharing the model's weights) on `train`'s batches. */
export interface EpochOverride {
  forward: tf.LayersModel;
  train: BatchSource;
}

/** Decides after an epoch whether the run should end there (may cross to the page through comlink). */
export type StopCheck = (epoch: number, metrics: Record<string, number>) => boolean | Promise<boolean>;

export interface TrainLoopResult {
  epochsRun: number;
  lastEpoch: number;
  stoppedEarly: boolean;
  bestEpoch?: number;
  history: { epoch: number; metrics: Record<string, number> }[];
}

/** The loop's state after an epoch, for checkpoints. */
export interface LoopSnapshot {
  history: TrainLoopResult['history'];
  /** The best epoch's weights so far (early stopping only); owned by the loop, do not dispose. */
  bestWeights?: tf.Tensor[];
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly epoch: number,
    readonly batch: number,
    value: number,
  ) {
    super(
      `The loss became ${value} at epoch ${epoch}, batch ${batch}. Lower the learning rate, check the data for ` +
        'invalid values, or use the Huber loss.',
    );
  }
}

export class TrainingCancelledError extends Error {
  override name = 'TrainingCancelledError';
  constructor() {
    super('Training was cancelled.');
  }
}

/**
 * Whether `error` says the training was cancelled, also when it crossed from a worker (comlink keeps an
 * error's `name`, not its class).
 * @example catch (error) { state = isTrainingCancelled(error) ? 'cancelled' : 'failed'; }
 */
export function isTrainingCancelled(error: unknown): boolean {
  return error instanceof TrainingCancelledError || (error instanceof Error && error.name === 'TrainingCancelledError');
}

/**
 * Trains `model` for the given epochs. The hot loop never reads tensors back except every `readEvery`
 * batches (the loss is summed on the device in between), and disposes every tensor it makes, so
 * `tf.memory().numTensors` stays flat across epochs.
 */
export async function trainLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, epochs, onProgress, earlyStopping } = options;
  const readEvery = Math.max(1, options.readEvery ?? 10);
  const history: TrainLoopResult['history'] = [...(options.resumeFrom?.history ?? [])];
  let best: tf.Tensor[] | undefined = options.resumeFrom?.bestWeights;
  let stoppedEarly = false;
  let epoch = options.startEpoch ?? 1;
  try {
    for (; epoch <= epochs; epoch++) {
      const override = options.beforeEpoch?.(epoch) ?? undefined;
      const trainLoss = await runEpoch(override ? { ...options, model: override.forward, train: override.train } : options, epoch, readEvery);
      const validation = await options.validate(epoch);
      const metrics = { loss: trainLoss, ...validation };
      history.push({ epoch, metrics });
      onProgress?.({ kind: 'epoch', epoch, epochs, metrics });
      let stop = false;
      if (earlyStopping) {
        const decision = earlyStopping.update(epoch, metrics);
        if (decision.improved) {
          tf.dispose(best);
          best = model.getWeights().map((w) => w.clone());
        }
        stop = decision.stop;
      }
      await options.onEpochEnd?.(epoch, metrics, { history, bestWeights: best });
      if (!stop && epoch < epochs && options.shouldStop) stop = await options.shouldStop(epoch, metrics);
      if (stop) {
        stoppedEarly = true;
        break;
      }
    }
    if (best) model.setWeights(best);
    return {
      epochsRun: history.length, // resumed epochs included
      lastEpoch: Math.min(epoch, epochs),
      stoppedEarly,
      bestEpoch: earlyStopping && earlyStopping.bestEpoch > 0 ? earlyStopping.bestEpoch : undefined,
      history,
    };
  } finally {
    tf.dispose(best);
  }
}

async function runEpoch(options: TrainLoopOptions, epoch: number, readEvery: number): Promise<number> {
  const { model, optimizer, loss, batchesPerEpoch, onProgress, signal } = options;
  let lossSum: tf.Scalar = tf.scalar(0);
  let samples = 0;
  let batch = 0;
  let windowStart = performance.now();
  let windowSamples = 0;
  const dropout = dropoutSeeds(model);
  try {
    for await (const { xs, ys, size } of options.train(epoch)) {
      try {
        if (signal?.aborted) throw new TrainingCancelledError();
        let slice = 0;
        const lossOf = (x: typeof xs, y: tf.Tensor) => {
          dropout.reseed(epoch, batch, slice++);
          return loss(y, model.apply(x, { training: true }) as tf.Tensor);
        };
        const stepLoss = minimizeInMicroBatches(optimizer, lossOf, xs, ys, options.microBatch ?? size, options.variables);
        const weighted = tf.tidy(() => tf.add(lossSum, tf.mul(stepLoss, size)));
        tf.dispose([stepLoss, lossSum]);
        lossSum = weighted as tf.Scalar;
      } finally {
        tf.dispose([xs, ys]);
      }
      batch++;
      samples += size;
      windowSamples += size;
      if (batch % readEvery === 0 || batch === batchesPerEpoch) {
        const [sum = Number.NaN] = await lossSum.data();
        const mean = sum / samples;
        if (!Number.isFinite(mean)) throw new NonFiniteLossError(epoch, batch, mean);
        const now = performance.now();
        const samplesPerSec = (windowSamples * 1000) / Math.max(1, now - windowStart);
        windowStart = now;
        windowSamples = 0;
        onProgress?.({ kind: 'batch', epoch, batch, batches: batchesPerEpoch, loss: mean, samplesPerSec });
      }
    }
    if (samples === 0) throw new Error(`epoch ${epoch} had no training batches: the training split is empty`);
    const [sum = Number.NaN] = await lossSum.data();
    const mean = sum / samples;
    if (!Number.isFinite(mean)) throw new NonFiniteLossError(epoch, batch, mean);
    return mean;
  } finally {
    dropout.restore();
    lossSum.dispose();
  }
}
