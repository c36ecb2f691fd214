import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoupeDb } from '../../../src/lib/db/db';
import type { SampleRow } from '../../../src/lib/db/types';
import { registerFastCpuKernels } from '../../../src/lib/backends/kernels/register';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { markInterruptedRuns, resumeTrainJob, runTrainJob, type TrainJobContext, type TrainJobSpec } from '../../../src/lib/training/job';
import { makeDb } from '../factories';
import { seedTinyCoins, tinyPng } from '../tiny-images';
import { startWasm } from '../kernels/wasm';

// A run interrupted mid-epoch and resumed from its last checkpoint must end exactly where the same run
// uninterrupted ends: every metric of every epoch and every final weight, bit for bit. The runs are tiny
// but carry every state a real one does: Adam's moments and step, BatchNorm's moving statistics, the
// augmentation and dropout of each step, early stopping's best epoch and weights, SGD's momentum.
// Each interruption comes after epoch 1 of 2 or 5 steps: Adam's β₂ᵗ after 2 or 5 steps is where tfjs's own
// restore (`pow(β₂, t + 1)`) differs in the last bit from the product the steps built.

class SimulatedTabClose extends Error {}

async function seedShapes(db: LoupeDb): Promise<string> {
  const labels = ['dark', 'mid', 'light'];
  const samples: SampleRow[] = [];
  for (let i = 0; i < 24; i++) {
    const label = labels[i % 3]!;
    samples.push({ id: `s${i}`, datasetId: 'shapes', split: i % 6 === 0 ? 'val' : 'train', label, hash: `h${i}`, path: `${label}/${i}.png`, blobs: [await tinyPng((i % 3) / 2, i)] });
  }
  await db.datasets.add({ id: 'shapes', name: 'tiny shapes', task: 'image-classification', createdAt: 1, sampleCount: samples.length, labels });
  await db.samples.bulkAdd(samples);
  return 'shapes';
}

/** What a user (or the registry) can see of a finished run, with the weights as float32 bit patterns. */
async function outcome(db: LoupeDb, result: { runId: string; metrics: Record<string, number>; trainable: { model: tf.LayersModel; dispose(): void } }) {
  const weights = result.trainable.model.getWeights().map((w) => Array.from(new Uint32Array((w.dataSync() as Float32Array).slice().buffer)));
  result.trainable.dispose();
  const points = (await db.metricPoints.where('runId').equals(result.runId).toArray())
    .map(({ name, epoch, step, value }) => ({ name, epoch, step, value }))
    .sort((a, b) => a.step - b.step || a.name.localeCompare(b.name));
  const [saved] = await db.checkpoints.where('runId').equals(result.runId).toArray();
  const savedBytes = await Promise.all(saved!.shards.map(async (s) => Array.from(new Uint8Array(await s.arrayBuffer()))));
  return { metrics: result.metrics, points, weights, savedBytes };
}

/** The run trained once without a break. */
async function uninterrupted(db: LoupeDb, spec: TrainJobSpec, backend: TrainJobContext['backend']) {
  return outcome(db, await runTrainJob(db, spec, { backend }));
}

/** The same run, its tab closed after `batch` steps of epoch 2, then resumed from the checkpoint of epoch 1. */
async function interruptedAndResumed(db: LoupeDb, spec: TrainJobSpec, backend: TrainJobContext['backend'], batch: number) {
  let runId = '';
  await expect(
    runTrainJob(db, { ...spec, readEvery: 1 }, {
      backend,
      onRunCreated: (id) => (runId = id),
      onProgress: (event) => {
        if (event.kind === 'batch' && event.epoch === 2 && event.batch === batch) throw new SimulatedTabClose();
      },
    }),
  ).rejects.toBeInstanceOf(SimulatedTabClose);
  // A closed tab writes no final status: the run stays "running" with no one holding its lock.
  await db.runs.update(runId, { status: 'running', failureReason: undefined, endedAt: undefined });
  await expect(markInterruptedRuns(db)).resolves.toEqual([runId]);
  await expect(db.runs.get(runId)).resolves.toMatchObject({ failureReason: 'Interrupted: the tab closed during epoch 2. Resume continues after epoch 1.' });
  const resumed = await resumeTrainJob(db, runId, { backend });
  await expect(db.runs.get(runId)).resolves.toMatchObject({ status: 'completed' });
  return outcome(db, resumed);
}

const coinSpec = (datasetId: string): TrainJobSpec => ({
  task: 'coin-year',
  datasetId,
  // BatchNorm (MobileNetV3), both photos augmented (random resized crop too), dropout before the head, Adam.
  model: {
    architecture: 'coin-regressor',
    backbone: 'mobilenetv3-small',
    mode: 'shared',
    inputSize: 32,
    projection: { units: 8 },
    dropout: 0.3,
    augmentation: { cropScale: [0.4, 1], rotateDegrees: 10, brightness: 0.2, contrast: 0.2 },
  },
  epochs: 2,
  batchSize: 5, // 10 training coins: 2 steps an epoch
  optimizer: 'adam',
  learningRate: 0.003,
  seed: 42,
  earlyStopping: { monitor: 'val_mae', patience: 5 },
});

const shapesSpec = (datasetId: string): TrainJobSpec => ({
  task: 'image-classification',
  datasetId,
  // Flip, rotation, brightness and contrast; dropout; SGD with momentum.
  model: { architecture: 'small-cnn', augmentation: 'default', inputSize: 16, channels: 3, filters: [4], dense: 8, dropout: 0.5 },
  epochs: 3,
  batchSize: 4, // 20 training images: 5 steps an epoch
  optimizer: 'sgd',
  learningRate: 0.05,
  seed: 7,
  earlyStopping: { monitor: 'val_accuracy', patience: 5 },
});

const adamShapesSpec = (datasetId: string): TrainJobSpec => ({ ...shapesSpec(datasetId), optimizer: 'adam', learningRate: 0.01, seed: 8 });

const backends = {
  cpu: async () => (await tf.setBackend('cpu'), registerFastCpuKernels()),
  // As the trainer worker starts it: with Loupe's fused BatchNorm, hard-swish and Adam kernels.
  wasm: async () => (await startWasm(), registerWasmTrainingKernels()),
};

afterAll(() => unregisterWasmTrainingKernels());

describe.each(['cpu', 'wasm'] as const)('resume on the %s backend', (name) => {
  const backend = { backend: name, adapter: name };

  it.each([
    ['SGD with momentum', shapesSpec],
    ['Adam', adamShapesSpec],
  ])('reproduces the uninterrupted small-CNN run bit for bit: augmentation, dropout, early stopping, %s', async (_, makeSpec) => {
    await backends[name]();
    const db = makeDb();
    const spec = makeSpec(await seedShapes(db));
    const before = tf.memory().numTensors;
    const whole = await uninterrupted(db, spec, backend);
    const resumed = await interruptedAndResumed(db, spec, backend, 3);
    expect(resumed.points.filter((p) => p.name === 'val_accuracy').map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(resumed.metrics).toEqual(whole.metrics);
    expect(resumed.points).toEqual(whole.points);
    expect(resumed.weights).toEqual(whole.weights);
    expect(resumed.savedBytes).toEqual(whole.savedBytes);
    expect(tf.memory().numTensors).toBe(before); // the interrupted run's prefetched batch included
    db.close();
  }, 60_000);
});

// MobileNetV3 trains in seconds on wasm, over a minute on the JavaScript cpu backend: wasm only.
describe('resume of the coin-year model on the wasm backend', () => {
  const backend = { backend: 'wasm' as const, adapter: 'wasm' };

  it('reproduces the uninterrupted run bit for bit: two photos, MobileNetV3 BatchNorm, augmentation, dropout, Adam, early stopping', async () => {
    await backends.wasm();
    const db = makeDb();
    const spec = coinSpec(await seedTinyCoins(db, 14));
    const before = tf.memory().numTensors;
    const whole = await uninterrupted(db, spec, backend);
    const resumed = await interruptedAndResumed(db, spec, backend, 1);
    expect(resumed.points.filter((p) => p.name === 'val_mae').map((p) => p.epoch)).toEqual([1, 2]);
    expect(resumed.metrics).toEqual(whole.metrics);
    expect(resumed.points).toEqual(whole.points);
    expect(resumed.weights).toEqual(whole.weights);
    expect(resumed.savedBytes).toEqual(whole.savedBytes);
    expect(tf.memory().numTensors).toBe(before);
    db.close();
  }, 120_000);
});
