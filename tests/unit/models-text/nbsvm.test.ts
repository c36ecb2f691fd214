import * as tf from '@tensorflow/tfjs';
import * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SampleRow } from '../../../src/lib/db/types';
import { describeIssue } from '../../../src/lib/registry/gate';
import { modelSpecSchema } from '../../../src/lib/tasks/model-specs';
import { createTrainable, loadTrainable } from '../../../src/lib/tasks/registry';
import { nbSvmClassifier } from '../../../src/lib/tasks/text-classification/nbsvm';
import { TEXT_CLASSIFICATION } from '../../../src/lib/tasks/text-classification';
import { toBatch, type TrainableModel } from '../../../src/lib/tasks/types';
import { logCountRatios, nbBucket, nbFeatureIds, nbNgrams } from '../../../src/lib/text/nbsvm';
import { trainLoop, type Batch } from '../../../src/lib/training/loop';
import { saveToBlobs } from '../../../models/io';
import { exportBundle, importBundle } from '../../../src/lib/registry/bundle';
import { InvalidBundleError } from '../../../src/lib/registry/errors';
import { checkWeightsFitTopology } from '../../../src/lib/registry/topology';
import { signatureOf } from '../../../src/lib/tasks/signature';
import { makeRegistry, registerInput } from '../registry/helpers';
import { DEFAULT_NBSVM, NbSvmConfigError } from '../../../models/text/nbsvm';

const labels = ['negative', 'positive'];
const small = { ...DEFAULT_NBSVM, buckets: 1 << 12, maxFeatures: 16, labels, seed: 3 };
const row = (text: string, label: string | number = '', i = 0): SampleRow => ({ id: `r${i}`, datasetId: 'd', split: 'train', label, hash: '', path: `row ${i}`, text });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function train(trainable: TrainableModel, rows: SampleRow[], epochs: number): Promise<number[]> {
  const optimizer = tf.train.adam(0.1);
  try {
    const result = await trainLoop({
      model: trainable.model,
      optimizer,
      loss: trainable.loss,
      batchesPerEpoch: Math.ceil(rows.length / 4),
      epochs,
      train: async function* (): AsyncIterable<Batch> {
        for (let start = 0; start < rows.length; start += 4) yield await toBatch(trainable, rows.slice(start, start + 4), { training: true });
      },
      validate: async () => ({}),
    });
    return result.history.map((h) => h.metrics.loss!);
  } finally {
    optimizer.dispose();
  }
}

async function predict(trainable: TrainableModel, texts: string[]): Promise<{ labels: string[]; probabilities: number[][] }> {
  const xs = await trainable.toInputs(texts.map((t, i) => row(t, '', i)), { training: false });
  const output = tf.tidy(() => trainable.model.predict(xs) as tf.Tensor);
  try {
    const predictions = await trainable.decode(output);
    return {
      labels: predictions.map((p) => (p.kind === 'classification' ? p.label : '')),
      probabilities: predictions.map((p) => (p.kind === 'classification' ? p.probabilities : [])),
    };
  } finally {
    tf.dispose([xs, output]);
  }
}

describe('NB-SVM features', () => {
  it('are each text’s distinct words and word pairs', () => {
    expect(nbNgrams('Good good film!', 2)).toEqual(['good', 'film', '!', 'w2:good good', 'w2:good film', 'w2:film !']);
    expect(nbFeatureIds('good good film', { buckets: 1 << 20, wordNgrams: 1, maxFeatures: 8 })).toEqual([nbBucket('good', 1 << 20), nbBucket('film', 1 << 20)]);
    expect(nbFeatureIds('a b c d', { buckets: 1 << 20, wordNgrams: 2, maxFeatures: 3 })).toHaveLength(3);
  });

  it('match log-count ratios computed by hand on a toy corpus', () => {
    // positive: "good good film" → good, film, good good, good film (binarised: "good" once)
    // negative: "bad film"       → bad, film, bad film
    // Vocabulary 6, α = 1. Positive: ‖p‖₁ = 6 + 4 = 10, ‖q‖₁ = 6 + 3 = 9.
    const buckets = 1 << 20;
    const config = { buckets, wordNgrams: 2, maxFeatures: 16 };
    const docs = [nbFeatureIds('good good film', config), nbFeatureIds('bad film', config)];
    const ngrams = ['good', 'film', 'w2:good good', 'w2:good film', 'bad', 'w2:bad film'];
    expect(new Set(ngrams.map((g) => nbBucket(g, buckets))).size).toBe(6); // no collision in this test
    const ratios = logCountRatios(docs, [1, 0], { classes: 2, buckets, alpha: 1 });
    const r = (ngram: string, c: number) => ratios[nbBucket(ngram, buckets) * 2 + c]!;
    const expected: Record<string, number> = {
      good: Math.log(2 / 10 / (1 / 9)),
      'w2:good film': Math.log(2 / 10 / (1 / 9)),
      film: Math.log(2 / 10 / (2 / 9)),
      bad: Math.log(1 / 10 / (2 / 9)),
      'w2:bad film': Math.log(1 / 10 / (2 / 9)),
    };
    for (const [ngram, value] of Object.entries(expected)) {
      expect(r(ngram, 1)).toBeCloseTo(value, 6);
      expect(r(ngram, 0)).toBeCloseTo(-value, 6); // one against the rest, two classes: r₀ = −r₁
    }
    // Unseen n-grams and padding say nothing.
    expect(r('awful', 1)).toBe(0);
    expect(ratios[0]).toBe(0);
    expect(() => logCountRatios(docs, [1, 2], { classes: 2, buckets, alpha: 1 })).toThrow('text 2: class index 2 is not one of 0…1');
  });

  it('add each word’s character n-grams when asked, and their ratios match a hand count', () => {
    expect(nbNgrams('so good', 2, [3, 3])).toEqual(['so', 'good', 'w2:so good', 'c:<so', 'c:so>', 'c:<go', 'c:goo', 'c:ood', 'c:od>']);
    // Each text's n-grams once: "<go" twice in "go go" counts once.
    expect(nbNgrams('go go', 1, [3, 4]).filter((g) => g === 'c:<go')).toHaveLength(1);
    expect(nbNgrams('so good', 2, [0, 0])).toEqual(nbNgrams('so good', 2));
    // positive "good" → good, <go, goo, ood, od>; negative "bad" → bad, <ba, bad(char), ad>; trigrams only, words only.
    const buckets = 1 << 20;
    const config = { buckets, wordNgrams: 1, charNgrams: [3, 3] as const, maxFeatures: 32 };
    const docs = [nbFeatureIds('good', config), nbFeatureIds('bad', config)];
    expect(docs.map((d) => d.length)).toEqual([5, 4]);
    // V = 9, α = 1. Positive: ‖p‖₁ = 9 + 5 = 14, ‖q‖₁ = 9 + 4 = 13; an n-gram of "good" only: p = 2, q = 1.
    const ratios = logCountRatios(docs, [1, 0], { classes: 2, buckets, alpha: 1 });
    expect(ratios[nbBucket('c:ood', buckets) * 2 + 1]).toBeCloseTo(Math.log(2 / 14 / (1 / 13)), 6);
    expect(ratios[nbBucket('c:<ba', buckets) * 2 + 1]).toBeCloseTo(Math.log(1 / 14 / (2 / 13)), 6);
    // An unseen word that shares a character n-gram with a training word gets that n-gram's ratio.
    expect(nbFeatureIds('goodness', config)).toContain(nbBucket('c:ood', buckets));
  });

  it('with three classes, each class against the other two', () => {
    const buckets = 1 << 20;
    const docs = [[nbBucket('sad', buckets)], [nbBucket('ok', buckets)], [nbBucket('yay', buckets)]];
    const ratios = logCountRatios(docs, [0, 1, 2], { classes: 3, buckets, alpha: 1 });
    // V = 3; class 0: ‖p‖ = 3 + 1, ‖q‖ = 3 + 2; "sad": p = 2, q = 1.
    expect(ratios[nbBucket('sad', buckets) * 3 + 0]).toBeCloseTo(Math.log(2 / 4 / (1 / 5)), 6);
    expect(ratios[nbBucket('ok', buckets) * 3 + 0]).toBeCloseTo(Math.log(1 / 4 / (2 / 5)), 6);
  });
});

describe('NB-SVM model', () => {
  const positive = ['good', 'great', 'love', 'nice', 'happy'];
  const negative = ['bad', 'awful', 'hate', 'sad', 'poor'];
  const rows = Array.from({ length: 20 }, (_, i) => (i % 2 ? row(`it was ${positive[i % 5]}`, 'positive', i) : row(`it was ${negative[i % 5]}`, 'negative', i)));

  it('fits its ratios on the training texts, trains on a tiny set and separates it, without leaking tensors', async () => {
    const trainable = createTrainable('text-classification', { architecture: 'nbsvm', buckets: 1 << 12, C: 10 }, { seed: 1, labels, trainingTexts: rows });
    expect(trainable.metadata).toMatchObject({ architecture: 'nbsvm', buckets: 1 << 12, wordNgrams: 2, C: 10, trainingTexts: 20, labels });
    const losses = await train(trainable, rows, 15);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 2);
    const before = tf.memory().numTensors;
    const predicted = await predict(trainable, rows.map((r) => r.text!));
    expect(predicted.labels).toEqual(rows.map((r) => r.label));
    expect((await predict(trainable, ['so happy', 'so awful', 'the zorblat'])).labels.slice(0, 2)).toEqual(['positive', 'negative']);
    expect(tf.memory().numTensors).toBe(before);
    trainable.dispose();
  });

  it('with character n-grams records them, and a model saved without them keeps reading words only', async () => {
    const chars = createTrainable('text-classification', { architecture: 'nbsvm', buckets: 1 << 12, charNgrams: [3, 5] }, { seed: 1, labels, trainingTexts: rows });
    expect(chars.metadata).toMatchObject({ charNgrams: [3, 5] });
    chars.dispose();
    const { charNgrams: _, ...wordsOnly } = small;
    const words = nbSvmClassifier(wordsOnly, TEXT_CLASSIFICATION, undefined, rows);
    await train(words, rows, 3);
    const saved = await saveToBlobs(words.model);
    const loaded = await loadTrainable(saved);
    expect((loaded.metadata as { charNgrams?: unknown }).charNgrams).toBeUndefined();
    // Same inputs as the words-only model it was: ids of words and pairs only.
    const [a] = (await words.toInputs([row('so happy')], { training: false })) as tf.Tensor[];
    const [b] = (await loaded.toInputs([row('so happy')], { training: false })) as tf.Tensor[];
    expect(await b!.array()).toEqual(await a!.array());
    tf.dispose([a!, b!]);
    words.dispose();
    loaded.dispose();
    expect(() => nbSvmClassifier({ ...small, charNgrams: [4, 2] }, TEXT_CLASSIFICATION, undefined, rows)).toThrow('charNgrams must be [0, 0] (none) or [min, max] with 1 ≤ min ≤ max, got [4,2]');
  });

  it('needs the train split, and names a bad setting', () => {
    expect(() => createTrainable('text-classification', { architecture: 'nbsvm' }, { seed: 1, labels })).toThrow('an NB-SVM fits its n-gram ratios on the training texts');
    expect(() => nbSvmClassifier({ ...small, beta: 2 }, TEXT_CLASSIFICATION, undefined, rows)).toThrow(NbSvmConfigError);
    expect(() => nbSvmClassifier({ ...small, C: 0 }, TEXT_CLASSIFICATION, undefined, rows)).toThrow('C must be a number > 0, got 0');
    expect(() => nbSvmClassifier(small, TEXT_CLASSIFICATION, undefined, [row('fine', 'meh', 7)])).toThrow('sample row 7: unknown label "meh"');
  });

  it('regularises: a smaller C keeps the weights smaller', async () => {
    const norm = async (C: number) => {
      const trainable = nbSvmClassifier({ ...small, C }, TEXT_CLASSIFICATION, undefined, rows);
      await train(trainable, rows, 10);
      const weights = trainable.model.getLayer('nb_linear').getWeights()[1]!;
      const value = (await tf.sum(tf.square(weights)).data())[0]!;
      trainable.dispose();
      return value;
    };
    expect(await norm(0.01)).toBeLessThan((await norm(100)) / 2);
  });

  it('β = 0 predicts as naive Bayes: the sign of the summed log-count ratios', async () => {
    const trainable = nbSvmClassifier({ ...small, beta: 0, C: 10 }, TEXT_CLASSIFICATION, undefined, rows);
    await train(trainable, rows, 5);
    // "good" and "love" are positive-only words, "bad" negative-only, "it was" in both.
    expect((await predict(trainable, ['it was good', 'love', 'it was bad'])).labels).toEqual(['positive', 'positive', 'negative']);
    trainable.dispose();
  });

  it('predicts the same after saveToBlobs → loadTrainable (ratios, weights and β travel in model.json)', async () => {
    const trainable = nbSvmClassifier({ ...small, beta: 0.5 }, TEXT_CLASSIFICATION, undefined, rows);
    await train(trainable, rows, 5);
    const texts = ['it was great', 'bad, but nice', 'the zorblat'];
    const before = await predict(trainable, texts);
    const reloaded = await loadTrainable(await saveToBlobs(trainable.model));
    expect(reloaded.metadata).toMatchObject({ architecture: 'nbsvm', labels, beta: 0.5, buckets: small.buckets, trainingTexts: 20 });
    expect(await predict(reloaded, texts)).toEqual(before);
    reloaded.dispose();
    trainable.dispose();
  });
});

describe('NB-SVM in the registry', () => {
  it('registers, exports as a bundle, imports elsewhere and predicts the same; its signature is the text column', async () => {
    const rows = [row('great phone', 'positive', 0), row('awful phone', 'negative', 1), row('love it', 'positive', 2), row('hate it', 'negative', 3)];
    const trainable = nbSvmClassifier({ ...small, C: 10 }, TEXT_CLASSIFICATION, undefined, rows);
    await train(trainable, rows, 10);
    const texts = ['great', 'awful', 'a phone'];
    const before = await predict(trainable, texts);
    const saved = await saveToBlobs(trainable.model);
    const lineage = { task: 'text-classification' as const };
    const source = makeRegistry();
    const row1 = await source.register(registerInput({ name: 'reviews', ...saved, metrics: { val_accuracy: 1 }, lineage }));
    const imported = await importBundle(makeRegistry(), await exportBundle(row1));
    const reloaded = await loadTrainable({ modelJson: imported.modelJson!, shards: imported.shards! });
    expect(await predict(reloaded, texts)).toEqual(before);
    expect(signatureOf(TEXT_CLASSIFICATION, saved.modelJson, labels).inputs).toEqual([{ name: 'text', type: 'string' }]);
    // A manifest that gives the ratio table another shape is refused before tfjs allocates anything.
    const json = JSON.parse(saved.modelJson) as { modelTopology: unknown; weightsManifest: { weights: { name: string; shape: number[] }[] }[] };
    expect(() => checkWeightsFitTopology(json)).not.toThrow();
    json.weightsManifest[0]!.weights.find((w) => w.name.endsWith('nb_linear/ratios'))!.shape = [7, 2];
    expect(() => checkWeightsFitTopology(json)).toThrow(InvalidBundleError);
    expect(() => checkWeightsFitTopology(json)).toThrow(/layer "nb_linear" \(NbLinear\) needs \[4097, 2\]/);
    reloaded.dispose();
    trainable.dispose();
  });
});

describe('NB-SVM spec', () => {
  const check = (spec: unknown) => {
    const parsed = v.safeParse(modelSpecSchema('text-classification'), spec);
    return parsed.success ? 'ok' : describeIssue(parsed.issues[0]);
  };
  it('names the field that is wrong', () => {
    expect(check({ architecture: 'nbsvm', beta: 0.25, C: 4, wordNgrams: 3 })).toBe('ok');
    expect(check({ architecture: 'nbsvm', beta: 2 })).toBe('beta: must be in [0, 1]');
    expect(check({ architecture: 'nbsvm', C: -1 })).toBe('C: must be > 0');
    expect(check({ architecture: 'nbsvm', dim: 32 })).toMatch(/^dim: is not a setting of nbsvm; it takes architecture, buckets, wordNgrams, charNgrams, beta, C, alpha/);
  });
});
