import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../src/lib/backends/tfjs';
import { encodePng } from '../../../src/lib/datasets/png';
import type { SampleRow } from '../../../src/lib/db/types';
import { loadTrainable, predictInputs } from '../../../src/lib/tasks/loaded';
import { createTrainable, UnsupportedModelError } from '../../../src/lib/tasks/registry';
import { labelIndex } from '../../../src/lib/tasks/classification';
import { smallCnnInput } from '../../../src/lib/tasks/image-classification/model';
import { mulberry32 } from '../../../src/lib/random';
import { runTrainJob } from '../../../src/lib/training/job';
import { saveToBlobs } from '../../../models/io';
import { makeDb } from '../factories';

const CLASSES = ['bag', 'shoe', 'coat'];

/** A 12×12 grey PNG: class 0 dark, 1 mid, 2 bright, with seeded noise. */
function grey(cls: number, seed: number): Uint8Array {
  const random = mulberry32(seed);
  return encodePng({ width: 12, height: 12, channels: 1, data: Uint8Array.from({ length: 144 }, () => Math.round(30 + cls * 90 + random() * 20)) }, 1);
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('classification follows the dataset\'s labels', () => {
  it('feeds grey images to a 1-channel small CNN as pixel / 255 (RGB averaged)', () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => [0, 51, 255, 255][Math.floor(i / 3)]!);
    const x = smallCnnInput([rgb], 2, 1);
    expect(x.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(x.dataSync(), (v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 0.2, 1, 1]);
    x.dispose();
    expect(() => smallCnnInput([new Uint8Array(5)], 2, 1)).toThrow(/image 1 has 5 bytes; 2×2 RGB needs 12/);
  });

  it('trains a small CNN on a dataset with its own classes; the saved model serves those classes', async () => {
    const db = makeDb();
    const samples: SampleRow[] = Array.from({ length: 24 }, (_, i) => ({
      id: `s${i}`,
      datasetId: 'shop',
      split: i % 4 === 0 ? 'val' : 'train',
      label: CLASSES[i % 3]!,
      hash: `h${i}`,
      path: `${CLASSES[i % 3]}/${i}.png`,
      blobs: [new Blob([grey(i % 3, i) as BlobPart], { type: 'image/png' })],
    }));
    await db.datasets.add({ id: 'shop', name: 'shop', task: 'image-classification', createdAt: 1, sampleCount: 24, labels: CLASSES });
    await db.samples.bulkAdd(samples);
    const { trainable, metrics } = await runTrainJob(
      db,
      {
        task: 'image-classification',
        datasetId: 'shop',
        model: { architecture: 'small-cnn', inputSize: 12, channels: 1, filters: [4], dense: 8, dropout: 0, augmentation: 'none' },
        epochs: 8,
        batchSize: 6,
        optimizer: 'adam',
        learningRate: 0.02,
        seed: 3,
      },
      { backend: { backend: 'cpu', adapter: 'cpu' } },
    );
    expect(trainable.labels).toEqual(CLASSES);
    expect(trainable.model.outputs[0]!.shape).toEqual([null, 3]);
    expect(metrics.val_accuracy).toBeGreaterThan(0.5);
    const saved = await saveToBlobs(trainable.model);
    trainable.dispose();
    const loaded = await loadTrainable(saved);
    expect(loaded.labels).toEqual(CLASSES);
    const predictions = await predictInputs(loaded, [{ image: { bytes: grey(2, 99), type: 'image/png' } }]);
    expect(predictions[0]).toMatchObject({ kind: 'classification' });
    expect(CLASSES).toContain((predictions[0] as { label: string }).label);
    loaded.dispose();
  }, 60_000);

  it('builds a binary fastText for a binary dataset and rejects a small CNN for text', () => {
    const before = tf.memory().numTensors;
    const trainable = createTrainable('text-classification', { architecture: 'fasttext', dim: 4, buckets: 64 }, { seed: 1, labels: ['negative', 'positive'] });
    expect(trainable.model.outputs[0]!.shape).toEqual([null, 2]);
    trainable.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => createTrainable('text-classification', { architecture: 'small-cnn' }, { seed: 1 })).toThrow(UnsupportedModelError);
  });

  it('matches stored labels exactly first, then ignoring case, or by index', () => {
    expect(labelIndex('T-shirt/top', ['T-shirt/top', 'Trouser'], 'x')).toBe(0);
    expect(labelIndex('trouser', ['T-shirt/top', 'Trouser'], 'x')).toBe(1);
    expect(labelIndex(1, ['a', 'b'], 'x')).toBe(1);
    expect(() => labelIndex('hat', ['a', 'b'], 'sample 3')).toThrow(/sample 3: unknown label "hat"; expected one of a, b/);
  });
});
