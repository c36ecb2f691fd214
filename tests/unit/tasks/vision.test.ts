import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoupeDb } from '../../../src/lib/db/db';
import type { SampleRow } from '../../../src/lib/db/types';
import { augmentRgb, NO_AUGMENTATION } from '../../../src/lib/images/augment';
import { decodeRgb } from '../../../src/lib/images/decode';
import { mulberry32 } from '../../../src/lib/random';
import { useBackend } from '../../../src/lib/backends/tfjs';
import { runTrainJob } from '../../../src/lib/training/job';
import { makeDb } from '../factories';
import { seedTinyCoins, tinyPng } from '../tiny-images';

async function seedDamage(db: LoupeDb): Promise<string> {
  const labels = ['minor', 'moderate', 'major'];
  const samples: SampleRow[] = [];
  for (let i = 0; i < 18; i++) {
    const label = labels[i % 3]!;
    samples.push({ id: `d${i}`, datasetId: 'damage', split: i % 4 === 0 ? 'val' : 'train', label, hash: `h${i}`, path: `${label}/${i}.png`, blobs: [await tinyPng((i % 3) / 2, i)] });
  }
  await db.datasets.add({ id: 'damage', name: 'tiny damage', task: 'image-classification', createdAt: 1, sampleCount: samples.length });
  await db.samples.bulkAdd(samples);
  return 'damage';
}

const backend = { backend: 'cpu' as const, adapter: 'JavaScript CPU kernels' };

beforeAll(async () => {
  await useBackend('cpu'); // with Loupe's fast cpu kernels, as the trainer worker gets them
});

describe('image decode and augmentation', () => {
  it('decodes and resizes a PNG to RGB bytes', async () => {
    const { data, size } = await decodeRgb(await tinyPng(0.5, 1), 8);
    expect(size).toBe(8);
    expect(data.length).toBe(8 * 8 * 3);
  });

  it('names the sample when an image cannot be decoded', async () => {
    await expect(decodeRgb(new Blob([new Uint8Array([1, 2, 3])]), 8, 'minor/broken.png')).rejects.toThrow('minor/broken.png could not be decoded as an image');
  });

  it('augments reproducibly by seed, and leaves pixels alone with no augmentation', () => {
    const pixels = new Uint8Array(8 * 8 * 3).map((_, i) => (i * 7) % 256);
    const options = { flip: true, rotateDegrees: 10, brightness: 0.2, contrast: 0.2 };
    expect(augmentRgb(pixels, 8, mulberry32(3), options)).toEqual(augmentRgb(pixels, 8, mulberry32(3), options));
    expect(augmentRgb(pixels, 8, mulberry32(3), options)).not.toEqual(augmentRgb(pixels, 8, mulberry32(4), options));
    expect(Array.from(augmentRgb(pixels, 8, mulberry32(3), NO_AUGMENTATION))).toEqual(Array.from(pixels));
  });
});

describe('vision training', () => {
  it('trains the coin-year regressor (one backbone shared by both sides): validation loss falls, MAE is reported in years', async () => {
    const db = makeDb();
    const datasetId = await seedTinyCoins(db, 24);
    const before = tf.memory().numTensors;
    const { runId, metrics, trainable } = await runTrainJob(
      db,
      {
        task: 'coin-year',
        datasetId,
        model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, dropout: 0, loss: 'mse' },
        epochs: 4,
        batchSize: 9,
        optimizer: 'adam',
        learningRate: 0.003,
        seed: 1,
      },
      { backend },
    );
    trainable.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const losses = (await db.metricPoints.where('runId').equals(runId).toArray()).filter((p) => p.name === 'val_loss').map((p) => p.value);
    // Four steps of noise can go either way on 6 validation coins; over four epochs the loss must fall.
    expect(Math.min(...losses.slice(1))).toBeLessThan(losses[0]!);
    expect(metrics.val_mae).toBeGreaterThan(0);
    expect((await db.runs.get(runId))?.analysis).toMatchObject({ kind: 'regression', count: 6 });
    // The training years' range, kept for the Predict page's "outside the training data" note.
    const trainYears = Array.from({ length: 24 }, (_, i) => i).filter((i) => i % 4 !== 0).map((i) => 1850 + ((i * 37) % 170));
    expect((await db.runs.get(runId))?.trainedOn).toEqual({ targetRange: { min: Math.min(...trainYears), max: Math.max(...trainYears) } });
    db.close();
  }, 120_000);

  it('trains the damage classifier on images', async () => {
    const db = makeDb();
    const datasetId = await seedDamage(db);
    const before = tf.memory().numTensors;
    const { metrics, trainable } = await runTrainJob(
      db,
      {
        task: 'image-classification',
        datasetId,
        model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, dropout: 0 },
        epochs: 2,
        batchSize: 7,
        optimizer: 'adam',
        learningRate: 0.003,
        seed: 2,
      },
      { backend },
    );
    trainable.dispose();
    expect(metrics.val_accuracy).toBeGreaterThanOrEqual(0);
    expect(metrics.val_loss).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    db.close();
  }, 120_000);
});
