import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EarlyStopping } from '../../../src/lib/training/early-stopping';
import { isTrainingCancelled, NonFiniteLossError, TrainingCancelledError, trainLoop, type Batch, type BatchSource } from '../../../src/lib/training/loop';
import type { ProgressEvent } from '../../../src/lib/progress';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** y = 3x₀ − 2x₁ + 1 on a fixed grid, served in batches of 8. */
function lineData(n = 64): { x: number[][]; y: number[] } {
  const x = Array.from({ length: n }, (_, i) => [((i * 7) % 13) / 6 - 1, ((i * 5) % 11) / 5 - 1]);
  return { x, y: x.map(([a = 0, b = 0]) => 3 * a - 2 * b + 1) };
}

function source(data: { x: number[][]; y: number[] }, batchSize = 8): BatchSource {
  return async function* () {
    for (let i = 0; i < data.y.length; i += batchSize) {
      const x = data.x.slice(i, i + batchSize);
      const y = data.y.slice(i, i + batchSize);
      yield { xs: tf.tensor2d(x), ys: tf.tensor2d(y, [y.length, 1]), size: y.length } satisfies Batch;
    }
  };
}

function linearModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'zeros' }));
  return model;
}

const mse = (t: tf.Tensor, p: tf.Tensor) => tf.losses.meanSquaredError(t, p) as tf.Scalar;

function validator(model: tf.LayersModel, data: { x: number[][]; y: number[] }) {
  return async () => {
    const loss = tf.tidy(() => mse(tf.tensor2d(data.y, [data.y.length, 1]), model.predict(tf.tensor2d(data.x)) as tf.Tensor));
    const [value = NaN] = await loss.data();
    loss.dispose();
    return { val_loss: value };
  };
}

describe('trainLoop', () => {
  it('lowers the validation loss and reports batches and epochs', async () => {
    const data = lineData();
    const model = linearModel();
    const optimizer = tf.train.adam(0.1);
    const events: ProgressEvent[] = [];
    const result = await trainLoop({
      model,
      optimizer,
      loss: mse,
      train: source(data),
      batchesPerEpoch: 8,
      epochs: 6,
      validate: validator(model, data),
      onProgress: (e) => void events.push(e),
      readEvery: 4,
    });
    const losses = result.history.map((h) => h.metrics.val_loss!);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
    expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(6);
    // Read back only every 4th batch (and the last): 2 reads per epoch, not 8.
    expect(events.filter((e) => e.kind === 'batch')).toHaveLength(12);
    const batch = events.find((e) => e.kind === 'batch');
    expect(batch).toMatchObject({ kind: 'batch', batches: 8, samplesPerSec: expect.any(Number) });
    model.dispose();
    optimizer.dispose();
  });

  it('keeps the tensor count flat across epochs', async () => {
    const data = lineData();
    const model = linearModel();
    const optimizer = tf.train.sgd(0.05);
    const counts: number[] = [];
    await trainLoop({
      model,
      optimizer,
      loss: mse,
      train: source(data),
      batchesPerEpoch: 8,
      epochs: 5,
      validate: validator(model, data),
      earlyStopping: new EarlyStopping({ monitor: 'val_loss', patience: 10 }),
      onEpochEnd: async () => void counts.push(tf.memory().numTensors),
    });
    // After the first epoch (optimizer slots and the best-weights snapshot exist), nothing accumulates.
    expect(new Set(counts.slice(1)).size).toBe(1);
    model.dispose();
    optimizer.dispose();
  });

  it('fails with a clear reason when the loss becomes NaN', async () => {
    const data = lineData();
    data.y[5] = Number.NaN;
    const model = linearModel();
    const optimizer = tf.train.sgd(0.01);
    const before = tf.memory().numTensors;
    const error = await trainLoop({
      model,
      optimizer,
      loss: mse,
      train: source(data),
      batchesPerEpoch: 8,
      epochs: 2,
      validate: async () => ({ val_loss: 0 }),
      readEvery: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/^The loss became NaN at epoch 1, batch 2\. Lower the learning rate/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    optimizer.dispose();
  });

  it('stops early and restores the best epoch’s weights', async () => {
    const data = lineData();
    const model = linearModel();
    let epochSeen = 0;
    const scripted = [5, 3, 4, 4, 4, 4]; // best at epoch 2
    let bestWeights: number[] = [];
    const result = await trainLoop({
      model,
      optimizer: tf.train.sgd(0.05),
      loss: mse,
      train: source(data),
      batchesPerEpoch: 8,
      epochs: 6,
      validate: async (epoch) => {
        epochSeen = epoch;
        if (epoch === 2) bestWeights = Array.from(await model.getWeights()[0]!.data());
        return { val_loss: scripted[epoch - 1]! };
      },
      earlyStopping: new EarlyStopping({ monitor: 'val_loss', patience: 2 }),
    });
    expect(result).toMatchObject({ stoppedEarly: true, bestEpoch: 2, epochsRun: 4 });
    expect(epochSeen).toBe(4);
    expect(Array.from(await model.getWeights()[0]!.data())).toEqual(bestWeights);
    model.dispose();
  });

  it('rejects an early-stopping metric the run does not produce, naming the available ones', async () => {
    const model = linearModel();
    await expect(
      trainLoop({
        model,
        optimizer: tf.train.sgd(0.05),
        loss: mse,
        train: source(lineData()),
        batchesPerEpoch: 8,
        epochs: 1,
        validate: async () => ({ val_loss: 1 }),
        earlyStopping: new EarlyStopping({ monitor: 'val_mae', patience: 1 }),
      }),
    ).rejects.toThrow('earlyStopping.monitor "val_mae" is not a metric of this run; available: loss, val_loss');
    model.dispose();
  });

  it('stops at the next batch when cancelled', async () => {
    const model = linearModel();
    const controller = new AbortController();
    controller.abort();
    await expect(
      trainLoop({
        model,
        optimizer: tf.train.sgd(0.05),
        loss: mse,
        train: source(lineData()),
        batchesPerEpoch: 8,
        epochs: 1,
        validate: async () => ({ val_loss: 1 }),
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(TrainingCancelledError);
    model.dispose();
  });
});

describe('isTrainingCancelled', () => {
  it('knows a cancellation by its class, or by its name once it crossed from a worker, and nothing else by its words', () => {
    expect(isTrainingCancelled(new TrainingCancelledError())).toBe(true);
    // What comlink hands the page: a plain Error carrying the name and message.
    expect(isTrainingCancelled(Object.assign(new Error('Training was cancelled.'), { name: 'TrainingCancelledError' }))).toBe(true);
    expect(isTrainingCancelled(new Error('the upload was cancelled by the server'))).toBe(false);
    expect(isTrainingCancelled('cancelled')).toBe(false);
  });
});
