import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingBag } from '../../../models/text/embedding-bag';
import { DEFAULT_TEXT_FEATURES, featureStrings, featurize, fnv1a, tokenize } from '../../../models/text/features';
import { createFastText, DEFAULT_FASTTEXT, FastTextConfigError } from '../../../models/text/fasttext';
import { preprocessTweet } from '../../../src/lib/text/preprocess';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('text features', () => {
  it('tokenizes words and keeps !/? runs', () => {
    expect(tokenize("Beautiful post!!! Isn't it?")).toEqual(['beautiful', 'post', '!!!', "isn't", 'it', '?']);
  });

  it('hashes with FNV-1a (reference values)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('builds word n-grams and bounded char n-grams', () => {
    const features = featureStrings('good day', { ...DEFAULT_TEXT_FEATURES, wordNgrams: 2, charNgrams: [3, 3] });
    expect(features).toEqual(['good', 'day', 'w2:good day', 'c:<go', 'c:goo', 'c:ood', 'c:od>', 'c:<da', 'c:day', 'c:ay>']);
  });

  it('pads ids with 0 and weights them to average', () => {
    const { ids, weights, count } = featurize('good day', { ...DEFAULT_TEXT_FEATURES, charNgrams: [0, 0], maxFeatures: 5 });
    expect(count).toBe(3);
    expect([...ids.slice(3)]).toEqual([0, 0]);
    expect(ids.slice(0, 3).every((id) => id >= 1 && id <= DEFAULT_TEXT_FEATURES.buckets)).toBe(true);
    expect([...weights]).toEqual([1 / 3, 1 / 3, 1 / 3, 0, 0].map(Math.fround));
  });
});

describe('preprocessTweet', () => {
  it('replaces mentions and links as cardiffnlp does', () => {
    expect(preprocessTweet('@bob look at https://t.co/x and http://a.b !')).toBe('@user look at http and http !');
    expect(preprocessTweet('@ alone stays')).toBe('@ alone stays');
  });
});

describe('EmbeddingBag', () => {
  it('computes the weighted sum of rows and the same gradient as gather', () => {
    const layer = new EmbeddingBag({ inputDim: 6, outputDim: 3, seed: 5 });
    const ids = tf.tensor2d([[1, 2, 2, 0], [5, 0, 0, 0]], [2, 4], 'int32');
    const weights = tf.tensor2d([[0.5, 0.25, 0.25, 0], [1, 0, 0, 0]]);
    layer.apply([ids, weights]); // builds the table
    const table = layer.getWeights()[0]!;
    const dy = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    // The layer reads its own table variable, so differentiate with respect to that variable.
    const ours = tf.variableGrads(() => tf.sum(tf.mul(layer.call([ids, weights]) as tf.Tensor, dy)) as tf.Scalar).grads;
    const oursTable = Object.values(ours)[0]!;
    // Reference: the plain definition, differentiated through gather by tfjs itself.
    const reference = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sum(tf.mul(tf.gather(t, ids), weights.expandDims(2)), 1), dy)))(table);
    expect(Array.from(oursTable.dataSync())).toEqual(Array.from(reference.dataSync()));
    const value = layer.apply([ids, weights]) as tf.Tensor;
    const expected = tf.sum(tf.mul(tf.gather(table, ids), weights.expandDims(2)), 1);
    expect(tf.max(tf.abs(tf.sub(value, expected))).dataSync()[0]).toBeLessThan(1e-7);
    tf.dispose([ids, weights, dy, oursTable, reference, value, expected]);
  });
});

describe('createFastText', () => {
  const labels = ['negative', 'neutral', 'positive'];

  it('outputs class probabilities and survives a save/load round trip', async () => {
    const config = { ...DEFAULT_FASTTEXT, dim: 8, buckets: 512, labels };
    const model = createFastText(config);
    const { ids, weights } = featurize('what a great day', config);
    const inputs = [tf.tensor2d(ids, [1, config.maxFeatures], 'int32'), tf.tensor2d(weights, [1, config.maxFeatures])];
    const before = model.predict(inputs) as tf.Tensor;
    expect(before.shape).toEqual([1, 3]);
    expect((await tf.sum(before).data())[0]).toBeCloseTo(1, 5);

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const after = reloaded.predict(inputs) as tf.Tensor;
    expect(Array.from(await after.data())).toEqual(Array.from(await before.data()));
    tf.dispose([...inputs, before, after]);
    model.dispose();
    reloaded.dispose();
  });

  it('rejects bad settings naming the field', () => {
    expect(() => createFastText({ ...DEFAULT_FASTTEXT, dim: 0, labels })).toThrow(FastTextConfigError);
    expect(() => createFastText({ ...DEFAULT_FASTTEXT, dim: 0, labels })).toThrow('dim must be a positive integer, got 0');
    expect(() => createFastText({ ...DEFAULT_FASTTEXT, labels: ['only'] })).toThrow('labels must be a list of at least 2 labels');
    expect(() => createFastText({ ...DEFAULT_FASTTEXT, charNgrams: [4, 2], labels })).toThrow('charNgrams must be [min, max]');
  });
});
