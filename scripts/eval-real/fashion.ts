/**
 * Fashion-MNIST with Loupe's own training engine: the IDX importer reads the Debian package's files, the
 * image-classification task builds its small CNN (`createTrainable`), `trainLoop` trains it and the
 * task's decode/metrics score the 10,000 test images once, after the last epoch (no model selection on
 * the test set).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { FASHION_MNIST_CLASSES, readIdxPair, type IdxImageSet } from '../../src/lib/datasets/idx';
import type { SampleRow } from '../../src/lib/db/types';
import { deriveSeed, mulberry32, shuffled } from '../../src/lib/random';
import { createTrainable, type ModelSpec } from '../../src/lib/tasks/registry';
import type { TrainableModel } from '../../src/lib/tasks/types';
import { smallCnnInput, SMALL_CNN_AUGMENTATION, type SmallCnnAugmentation } from '../../src/lib/tasks/image-classification/model';
import { classificationMetrics, type ClassificationMetrics } from '../../src/lib/tasks/metrics';
import { trainLoop, type Batch } from '../../src/lib/training/loop';

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_BASELINES = '/usr/share/doc/dataset-fashion-mnist/benchmark/baselines.json';

export interface FashionData {
  train: IdxImageSet;
  test: IdxImageSet;
}

/** Reads the four IDX files; throws naming the package when they are missing. */
export function readFashion(dir = FASHION_DIR): FashionData {
  const file = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)`);
    return readFileSync(path);
  };
  const pair = (prefix: string) =>
    readIdxPair(file(`${prefix}-images-idx3-ubyte.gz`), file(`${prefix}-labels-idx1-ubyte.gz`), `${prefix}-images-idx3-ubyte.gz`, `${prefix}-labels-idx1-ubyte.gz`);
  return { train: pair('train'), test: pair('t10k') };
}

export interface FashionOptions {
  /** First n training / test images (all when omitted). */
  trainLimit?: number;
  testLimit?: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  filters: number[];
  dense: number;
  dropout: number;
  augmentation: SmallCnnAugmentation;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

export const FULL_FASHION: FashionOptions = {
  epochs: 6,
  batchSize: 64,
  learningRate: 1e-3,
  seed: 42,
  filters: [16, 32],
  dense: 128,
  dropout: 0.3,
  augmentation: 'flip',
};

export interface FashionResult {
  trainCount: number;
  testCount: number;
  metrics: ClassificationMetrics;
  epochs: { epoch: number; loss: number; seconds: number }[];
  trainSeconds: number;
  parameters: number;
  spec: ModelSpec;
}

/** Grey image `i` of a set as the RGB bytes a decoder hands the task (R = G = B). */
function rgbOf(set: IdxImageSet, i: number): Uint8Array {
  const area = set.rows * set.cols;
  const rgb = new Uint8Array(area * 3);
  for (let j = 0; j < area; j++) rgb[3 * j] = rgb[3 * j + 1] = rgb[3 * j + 2] = set.pixels[i * area + j]!;
  return rgb;
}

/** Labelled rows as the task reads targets from (label names only; the pixels go in through `smallCnnInput`). */
function rowOf(set: IdxImageSet, i: number, split: 'train' | 'test'): SampleRow {
  return { id: `${split}-${i}`, datasetId: 'fashion-mnist', split, label: FASHION_MNIST_CLASSES[set.labels[i]!]!, hash: '', path: `${split}#${i + 1}` };
}

async function predictAll(trainable: TrainableModel, set: IdxImageSet, count: number): Promise<number[]> {
  const predicted: number[] = [];
  const { inputSize, channels } = trainable.metadata as { inputSize: number; channels: 1 | 3 };
  for (let start = 0; start < count; start += 500) {
    const indices = Array.from({ length: Math.min(500, count - start) }, (_, k) => start + k);
    const xs = smallCnnInput(indices.map((i) => rgbOf(set, i)), inputSize, channels);
    const output = tf.tidy(() => trainable.model.predict(xs) as tf.Tensor);
    try {
      for (const p of await trainable.decode(output)) predicted.push(p.kind === 'classification' ? p.index : -1);
    } finally {
      tf.dispose([xs, output]);
    }
  }
  return predicted;
}

/**
 * Trains the small CNN on Fashion-MNIST's training images and scores it on the test images.
 * @example const result = await evaluateFashion(readFashion(), FULL_FASHION);
 */
export async function evaluateFashion(data: FashionData, options: FashionOptions): Promise<FashionResult> {
  const trainCount = Math.min(options.trainLimit ?? data.train.count, data.train.count);
  const testCount = Math.min(options.testLimit ?? data.test.count, data.test.count);
  const spec: ModelSpec = {
    architecture: 'small-cnn',
    inputSize: data.train.rows,
    channels: 1,
    filters: options.filters,
    dense: options.dense,
    dropout: options.dropout,
    augmentation: options.augmentation,
  };
  const trainable = createTrainable('image-classification', spec, { seed: options.seed, labels: [...FASHION_MNIST_CLASSES] });
  const optimizer = tf.train.adam(options.learningRate);
  const augment = SMALL_CNN_AUGMENTATION[options.augmentation];
  const indices = Array.from({ length: trainCount }, (_, i) => i);
  const epochs: FashionResult['epochs'] = [];
  try {
    const started = performance.now();
    let epochStarted = started;
    await trainLoop({
      model: trainable.model,
      optimizer,
      loss: trainable.loss,
      batchesPerEpoch: Math.ceil(trainCount / options.batchSize),
      epochs: options.epochs,
      // Same seeding as a studio run (training/job.ts): shuffle per (seed, epoch), augmentation per batch.
      train: async function* (epoch): AsyncIterable<Batch> {
        const order = shuffled(indices, mulberry32(deriveSeed(options.seed, 'shuffle', epoch)));
        for (let start = 0, b = 0; start < order.length; start += options.batchSize, b++) {
          const chunk = order.slice(start, start + options.batchSize);
          const random = mulberry32(deriveSeed(options.seed, 'augment', epoch, b));
          const xs = smallCnnInput(chunk.map((i) => rgbOf(data.train, i)), data.train.rows, 1, augment, random);
          yield { xs, ys: trainable.toTargets(chunk.map((i) => rowOf(data.train, i, 'train'))), size: chunk.length };
        }
      },
      validate: async () => ({}),
      onEpochEnd: async (epoch, metrics) => {
        const now = performance.now();
        epochs.push({ epoch, loss: metrics.loss!, seconds: (now - epochStarted) / 1000 });
        options.onEpoch?.(epoch, metrics.loss!, (now - epochStarted) / 1000);
        epochStarted = now;
      },
    });
    const trainSeconds = (performance.now() - started) / 1000;
    const predicted = await predictAll(trainable, data.test, testCount);
    const targets = Array.from({ length: testCount }, (_, i) => trainable.target(rowOf(data.test, i, 'test')));
    return {
      trainCount,
      testCount,
      metrics: classificationMetrics(targets, predicted, trainable.labels!),
      epochs,
      trainSeconds,
      parameters: trainable.model.countParams(),
      spec,
    };
  } finally {
    optimizer.dispose();
    trainable.dispose();
  }
}

export const FASHION_README = '/usr/share/doc/dataset-fashion-mnist/README.md.gz';

/** What the package publishes to compare with. */
export interface FashionPublished {
  /** baselines.json: the scikit-learn benchmark's classifiers and how many parameter settings each. */
  baselines: { classifier: string; settings: number }[];
  /** Whether baselines.json carries any score (it is the runner's parameter grid). */
  baselinesHaveScores: boolean;
  /** The README's table of submitted results (classifier, preprocessing, Fashion test accuracy). */
  submitted: { classifier: string; preprocessing: string; accuracy: number }[];
}

/** Reads baselines.json and the README's benchmark table from the Debian package. */
export function readPublished(baselinesPath = FASHION_BASELINES, readmePath = FASHION_README): FashionPublished {
  const json = JSON.parse(readFileSync(baselinesPath, 'utf8')) as { classifiers?: Record<string, Record<string, unknown[]>[]> };
  const baselines = Object.entries(json.classifiers ?? {}).map(([classifier, grids]) => ({
    classifier,
    // The runner tries every combination of each grid's values.
    settings: grids.reduce((n, grid) => n * Object.values(grid).reduce((m, values) => m * values.length, 1), 1),
  }));
  const baselinesHaveScores = /accuracy|score/i.test(readFileSync(baselinesPath, 'utf8'));
  const submitted: FashionPublished['submitted'] = [];
  if (existsSync(readmePath)) {
    const readme = new TextDecoder().decode(gunzipSync(readFileSync(readmePath)));
    for (const line of readme.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      // | Classifier | Preprocessing | Fashion test accuracy | MNIST test accuracy | Submitter | Code |
      const accuracy = Number(cells[3]);
      if (cells.length >= 6 && cells[1] && /^0\.\d+$/.test(cells[3] ?? '')) submitted.push({ classifier: cells[1], preprocessing: cells[2] ?? '', accuracy });
    }
  }
  return { baselines, baselinesHaveScores, submitted };
}
