import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoupeDb } from '../../../src/lib/db/db';
import type { SampleRow } from '../../../src/lib/db/types';
import type { ProgressEvent } from '../../../src/lib/progress';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { batchNormLayers, recomputeBatchNormStatistics } from '../../../src/lib/training/batch-norm-stats';
import { jobSpecOf, runTrainJob, type TrainJobSpec } from '../../../src/lib/training/job';
import { sampleChunks } from '../../../src/lib/training/evaluate';
import { makeDb } from '../factories';
import { tinyPng } from '../tiny-images';
import { startWasm } from '../kernels/wasm';

// An image run's saved model is scored and served with BatchNorm statistics of its final weights: the
// running averages kept while training describe weights that kept moving (docs/fine-tuning.md).

async function seedShapes(db: LoupeDb): Promise<string> {
  const labels = ['dark', 'mid', 'light'];
  const samples: SampleRow[] = [];
  for (let i = 0; i < 24; i++) {
    const label = labels[i % 3]!;
    samples.push({ id: `s${String(i).padStart(2, '0')}`, datasetId: 'shapes', split: i % 6 === 0 ? 'val' : 'train', label, hash: `h${i}`, path: `${label}/${i}.png`, blobs: [await tinyPng((i % 3) / 2, i)] });
  }
  await db.datasets.add({ id: 'shapes', name: 'tiny shapes', task: 'image-classification', createdAt: 1, sampleCount: samples.length, labels });
  await db.samples.bulkAdd(samples);
  return 'shapes';
}

const spec = (datasetId: string, overrides: Partial<TrainJobSpec> = {}): TrainJobSpec => ({
  task: 'image-classification',
  datasetId,
  // Augmented in training: the recompute must read the images without it.
  model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, projection: null, dropout: 0.2, augmentation: 'default' },
  epochs: 2,
  batchSize: 8, // 20 training images: 8, 8 and a short last batch of 4
  optimizer: 'adam',
  learningRate: 0.003,
  seed: 5,
  ...overrides,
});

const statistics = (model: tf.LayersModel) => batchNormLayers(model).map((l) => [...l.movingMean.read().dataSync(), ...l.movingVariance.read().dataSync()]);

afterAll(() => unregisterWasmTrainingKernels());

describe('BatchNorm statistics of an image run', () => {
  it('recomputes them over the training split after the last epoch when asked, records it and says so; off by default', async () => {
    await startWasm();
    registerWasmTrainingKernels();
    const db = makeDb();
    const datasetId = await seedShapes(db);
    const before = tf.memory().numTensors;
    const events: ProgressEvent[] = [];
    const on = await runTrainJob(db, spec(datasetId, { recomputeBatchNorm: true }), { backend: { backend: 'wasm', adapter: 'wasm' }, onProgress: (e) => void events.push(e) });
    const off = await runTrainJob(db, spec(datasetId), { backend: { backend: 'wasm', adapter: 'wasm' } });

    const [onRun, offRun] = [await db.runs.get(on.runId), await db.runs.get(off.runId)];
    expect(onRun!.params.recomputeBatchNorm).toBe(true);
    expect(offRun!.params.recomputeBatchNorm).toBe(false);
    // A resumed run reads its spec back from the params: the choice survives.
    expect(jobSpecOf(offRun!).recomputeBatchNorm).toBe(false);
    expect(events).toContainEqual({ kind: 'log', level: 'info', message: 'recomputed the running statistics of 34 BatchNorm layers over 20 training samples (no augmentation)' });

    // Same seed, same weights; only the statistics differ.
    const weights = (m: tf.LayersModel) => m.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    expect(weights(on.trainable.model)).toEqual(weights(off.trainable.model));
    const [recomputed, kept] = [statistics(on.trainable.model), statistics(off.trainable.model)];
    expect(recomputed).not.toEqual(kept);

    // They are the statistics of one plain pass over the training split: recomputing again changes nothing.
    const ids = (await db.samples.where('[datasetId+split]').equals([datasetId, 'train']).primaryKeys()) as string[];
    await recomputeBatchNormStatistics(on.trainable.model, (async function* () {
      for await (const rows of sampleChunks(db, ids.sort(), 8)) {
        const xs = await on.trainable.toInputs(rows, { training: false });
        try {
          yield { xs, size: rows.length };
        } finally {
          tf.dispose(xs);
        }
      }
    })());
    statistics(on.trainable.model).forEach((layer, i) => layer.forEach((v, k) => expect(v).toBeCloseTo(recomputed[i]![k]!, 5)));

    // The run reports the model it saved: validation metrics of the recomputed statistics.
    const points = (await db.metricPoints.where('runId').equals(on.runId).toArray()).filter((p) => p.name === 'val_loss');
    expect(on.metrics['val_loss']).not.toBe(points.at(-1)!.value);
    expect(off.metrics['val_loss']).toBe((await db.metricPoints.where('runId').equals(off.runId).toArray()).filter((p) => p.name === 'val_loss').at(-1)!.value);

    on.trainable.dispose();
    off.trainable.dispose();
    expect(tf.memory().numTensors).toBe(before);
    db.close();
  }, 120_000);

  it('rejects a recomputeBatchNorm that is not true or false, naming the field', async () => {
    const db = makeDb();
    const datasetId = await seedShapes(db);
    await expect(runTrainJob(db, spec(datasetId, { recomputeBatchNorm: 'yes' as unknown as boolean }), { backend: { backend: 'cpu', adapter: 'cpu' } })).rejects.toThrow(
      'recomputeBatchNorm must be true or false, got "yes"',
    );
    db.close();
  });
});
