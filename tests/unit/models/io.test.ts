import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { coinRegressorMetadata, coinYearLoss, createCoinRegressor, predictYears } from '../../../models/coin-regressor';
import { createDamageClassifier } from '../../../models/damage-classifier';
import { blobsLoadHandler, loadFromBlobs, MAX_SHARD_BYTES, saveToBlobs, toDownloadableArtifacts } from '../../../models/io';
import { registerFastCpuKernels } from '../../../src/lib/backends/kernels/register';

const images = (batch: number, seed: number) => tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFastCpuKernels(); // as the trainer worker gets it on cpu
});

describe('saveToBlobs / loadFromBlobs', () => {
  it('round-trips a dual MobileNetV3 coin regressor: same predictions, same metadata, no leaked tensors', async () => {
    const yearScale = { mean: 1890, std: 42 };
    const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 32, projection: { units: 8 }, yearScale });
    const front = images(2, 1);
    const back = images(2, 2);
    try {
      const expected = await predictYears(model, front, back);
      const start = tf.memory().numTensors;

      const saved = await saveToBlobs(model);
      expect(typeof saved.modelJson).toBe('string');
      expect(saved.shards.every((s) => s instanceof Blob && s.size <= MAX_SHARD_BYTES)).toBe(true);
      const loaded = await loadFromBlobs(saved);
      expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      expect(coinRegressorMetadata(loaded).yearScale).toEqual(yearScale);
      expect(await predictYears(loaded, front, back)).toEqual(expected);
      loaded.dispose();

      expect(tf.memory().numTensors).toBe(start);
    } finally {
      model.dispose();
      tf.dispose([front, back]);
    }
  });

  it('splits a ResNet18 classifier (≈ 45 MB) into ≤ 4 MiB shards and loads it back identically', async () => {
    const { model } = createDamageClassifier({ backbone: 'resnet18', inputSize: 32 });
    const x = images(2, 3);
    try {
      const expected = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
      const saved = await saveToBlobs(model);
      const bytes = saved.shards.reduce((sum, s) => sum + s.size, 0);
      expect(bytes).toBe(4 * model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1), 0));
      expect(saved.shards).toHaveLength(Math.ceil(bytes / MAX_SHARD_BYTES));
      expect(saved.shards.slice(0, -1).every((s) => s.size === MAX_SHARD_BYTES)).toBe(true);
      const manifest = JSON.parse(saved.modelJson).weightsManifest as tf.io.WeightsManifestConfig;
      expect(manifest[0]!.paths).toEqual(saved.shards.map((_, i) => `group1-shard${i + 1}of${saved.shards.length}.bin`));

      const start = tf.memory().numTensors;
      const loaded = await loadFromBlobs(saved);
      const actual = tf.tidy(() => Array.from((loaded.predict(x) as tf.Tensor).dataSync()));
      expect(actual).toEqual(expected);
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      model.dispose();
      x.dispose();
    }
  });

  it('honours a smaller shard size, cutting weights across shard boundaries', async () => {
    const { model } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32, labels: ['a', 'b'] });
    const x = images(1, 4);
    try {
      const saved = await saveToBlobs(model, { maxShardBytes: 100_003 });
      expect(saved.shards.length).toBeGreaterThan(30);
      expect(saved.shards.every((s) => s.size <= 100_003)).toBe(true);
      const loaded = await loadFromBlobs(saved);
      const [a, b] = tf.tidy(() => [(model.predict(x) as tf.Tensor).dataSync(), (loaded.predict(x) as tf.Tensor).dataSync()]);
      expect(Array.from(b!)).toEqual(Array.from(a!));
      loaded.dispose();
    } finally {
      model.dispose();
      x.dispose();
    }
  });

  it('saves and restores the optimizer state with includeOptimizer', async () => {
    const { model } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32, dropout: 0 });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const x = images(2, 5);
    const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    try {
      await model.trainOnBatch(x, y);
      const saved = await saveToBlobs(model, { includeOptimizer: true });
      const loaded = await loadFromBlobs(saved);
      expect(loaded.optimizer).toBeInstanceOf(tf.AdamOptimizer);
      const restored = await loaded.optimizer.getWeights();
      const original = await model.optimizer.getWeights();
      expect(restored.map((w) => w.tensor.shape)).toEqual(original.map((w) => w.tensor.shape));
      expect(Array.from(restored[0]!.tensor.dataSync())).toEqual(Array.from(original[0]!.tensor.dataSync())); // the step count
      loaded.dispose();
    } finally {
      model.dispose();
      tf.dispose([x, y]);
    }
  });

  it('loads a model saved with a function loss uncompiled, ready to compile with that loss again', async () => {
    const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, loss: 'mse' });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: coinYearLoss('mse') });
    const saved = await saveToBlobs(model, { includeOptimizer: true });
    model.dispose();
    expect(JSON.parse(saved.modelJson).trainingConfig.loss).toEqual({}); // what tfjs writes for a function
    const loaded = await loadFromBlobs(saved);
    try {
      expect(loaded.optimizer).toBeUndefined();
      const { loss, huberDelta } = coinRegressorMetadata(loaded);
      loaded.compile({ optimizer: tf.train.adam(1e-3), loss: coinYearLoss(loss, huberDelta) });
      const [front, back, target] = [images(2, 6), images(2, 7), tf.zeros([2, 1])];
      expect(Number.isFinite((await loaded.trainOnBatch([front, back], target)) as number)).toBe(true);
      tf.dispose([front, back, target]);
    } finally {
      loaded.dispose();
    }
  });

  it('refuses shards that do not match model.json', async () => {
    const { model } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32 });
    try {
      const saved = await saveToBlobs(model, { maxShardBytes: 1_000_000 });
      await expect(loadFromBlobs({ ...saved, shards: saved.shards.slice(1) })).rejects.toThrow(/model\.json lists 4 weight shard\(s\) but 3 were given/);
      const truncated = [...saved.shards.slice(0, -1), saved.shards.at(-1)!.slice(0, 10)];
      await expect(loadFromBlobs({ ...saved, shards: truncated })).rejects.toThrow(/weight shards hold \d+ bytes but model\.json's weights need \d+/);
      await expect(tf.loadLayersModel(blobsLoadHandler({ modelJson: '{"nope": 1}', shards: [] }))).rejects.toThrow(/needs modelTopology and weightsManifest/);
    } finally {
      model.dispose();
    }
  });
});

describe('toDownloadableArtifacts', () => {
  it('gives model.json and the .bin shards under the names model.json refers to', async () => {
    const { model } = createDamageClassifier({ backbone: 'mobilenetv3-small', inputSize: 32 });
    try {
      const files = await toDownloadableArtifacts(model, { maxShardBytes: 1_000_000 });
      expect(files.map((f) => f.name)).toEqual(['model.json', 'group1-shard1of4.bin', 'group1-shard2of4.bin', 'group1-shard3of4.bin', 'group1-shard4of4.bin']);
      const modelJson = JSON.parse(await files[0]!.blob.text()) as tf.io.ModelJSON;
      expect(modelJson.format).toBe('layers-model');
      expect(modelJson.weightsManifest[0]!.paths).toEqual(files.slice(1).map((f) => f.name));
      expect((modelJson.userDefinedMetadata as { loupe: { architecture: string } }).loupe.architecture).toBe('damage-classifier');

      // Served side by side, tfjs's own http loader reads them back.
      const byName = new Map(files.map((f) => [f.name, f.blob]));
      const fetchFunc = (async (url: string) => new Response(byName.get(url.split('/').pop()!)!)) as typeof fetch;
      const loaded = await tf.loadLayersModel(tf.io.http('https://example.org/models/car/model.json', { fetchFunc }));
      expect(loaded.countParams()).toBe(model.countParams());
      loaded.dispose();
    } finally {
      model.dispose();
    }
  });
});
