import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SampleRow } from '../../../src/lib/db/types';
import { LEXICON_FEATURE_COUNT, LEXICON_FEATURE_SETS, lexiconFeatures } from '../../../src/lib/text/lexicon/features';
import { preprocessTweet } from '../../../src/lib/text/preprocess';
import { loadTrainable } from '../../../src/lib/tasks/loaded';
import { LexiconFeaturesMismatchError, lexiconClassifier } from '../../../src/lib/tasks/text-classification/lexicon';
import { createTrainable } from '../../../src/lib/tasks/registry';
import { TEXT_CLASSIFICATION } from '../../../src/lib/tasks/text-classification';
import { toBatch, type TrainableModel } from '../../../src/lib/tasks/types';
import { trainLoop, type Batch } from '../../../src/lib/training/loop';
import { saveToBlobs } from '../../../models/io';
import { FastTextConfigError } from '../../../models/text/fasttext';
import { createLexiconFastText, DEFAULT_LEXICON_FASTTEXT } from '../../../models/text/lexicon-fasttext';

const labels = ['negative', 'positive'];
const small = { ...DEFAULT_LEXICON_FASTTEXT, dim: 8, buckets: 1 << 10, charNgrams: [0, 0] as [number, number], maxFeatures: 32, labels, seed: 7 };
const row = (text: string, label = '', i = 0): SampleRow => ({ id: `r${i}`, datasetId: 'd', split: 'train', label, hash: '', path: `row ${i}`, text });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function train(trainable: TrainableModel, rows: SampleRow[], epochs: number): Promise<void> {
  const optimizer = tf.train.adam(0.05);
  try {
    await trainLoop({
      model: trainable.model,
      optimizer,
      loss: trainable.loss,
      batchesPerEpoch: Math.ceil(rows.length / 8),
      epochs,
      train: async function* (): AsyncIterable<Batch> {
        for (let start = 0; start < rows.length; start += 8) yield await toBatch(trainable, rows.slice(start, start + 8), { training: true });
      },
      validate: async () => ({}),
    });
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

describe('createLexiconFastText', () => {
  it('takes ids, weights and the lexicon vector, and outputs probabilities', () => {
    const model = createLexiconFastText({ ...small, lexiconFeatures: LEXICON_FEATURE_COUNT });
    expect(model.inputs.map((i) => i.shape)).toEqual([[null, 32], [null, 32], [null, LEXICON_FEATURE_COUNT]]);
    const out = tf.tidy(() => model.predict([tf.zeros([2, 32], 'int32'), tf.zeros([2, 32]), tf.ones([2, LEXICON_FEATURE_COUNT])]) as tf.Tensor);
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(tf.tidy(() => tf.sum(out, 1)).dataSync()).map((v) => Number(v.toFixed(5)))).toEqual([1, 1]);
    tf.dispose(out);
    model.dispose();
  });

  it('rejects bad settings naming the field', () => {
    expect(() => createLexiconFastText({ ...small, lexiconFeatures: 0 })).toThrow(FastTextConfigError);
    expect(() => createLexiconFastText({ ...small, lexiconFeatures: 0 })).toThrow('lexiconFeatures must be a positive integer, got 0');
    expect(() => createLexiconFastText({ ...small, lexiconFeatures: 4, ngramDropout: 1 })).toThrow('ngramDropout must be a number in [0, 1), got 1');
  });
});

describe('lexicon-fasttext trainable', () => {
  it('is offered by the task registry', () => {
    const trainable = createTrainable('text-classification', { architecture: 'lexicon-fasttext', dim: 8, buckets: 512 }, { seed: 1, labels });
    expect(trainable.metadata).toMatchObject({ architecture: 'lexicon-fasttext', dim: 8, buckets: 512, ngramDropout: DEFAULT_LEXICON_FASTTEXT.ngramDropout, lexiconFeatures: LEXICON_FEATURE_COUNT });
    expect(trainable.model.inputs).toHaveLength(3);
    trainable.dispose();
    expect(() => createTrainable('coin-year', { architecture: 'lexicon-fasttext' }, { seed: 1, trainingTargets: [1900] })).toThrow('model.architecture "lexicon-fasttext" is for text-classification, not coin-year');
  });

  it('learns a tiny separable set far above chance (made-up words, no lexicon help)', async () => {
    const trainable = lexiconClassifier({ ...small, ngramDropout: 0 }, TEXT_CLASSIFICATION);
    const rows = Array.from({ length: 32 }, (_, i) => (i % 2 ? row(`the blorp zib ${i}`, 'positive', i) : row(`the snarf quux ${i}`, 'negative', i)));
    await train(trainable, rows, 20);
    const { labels: predicted } = await predict(trainable, rows.map((r) => r.text!));
    const accuracy = predicted.filter((l, i) => l === rows[i]!.label).length / rows.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    trainable.dispose();
  });

  it('classifies polar words it never saw in training, through the lexicon features', async () => {
    const trainable = lexiconClassifier({ ...small, ngramDropout: 0.8 }, TEXT_CLASSIFICATION);
    const positive = ['good', 'great', 'love', 'nice', 'happy'];
    const negative = ['bad', 'awful', 'hate', 'sad', 'poor'];
    const rows = Array.from({ length: 40 }, (_, i) => (i % 2 ? row(`it was ${positive[i % 5]}`, 'positive', i) : row(`it was ${negative[i % 5]}`, 'negative', i)));
    await train(trainable, rows, 30);
    const unseen = ['it was wonderful', 'it was excellent', 'it was terrible', 'it was horrible'];
    expect((await predict(trainable, unseen)).labels).toEqual(['positive', 'positive', 'negative', 'negative']);
    trainable.dispose();
  });

  it('predicts the same after saveToBlobs → loadTrainable, and refuses a model with another lexicon width', async () => {
    const trainable = lexiconClassifier(small, TEXT_CLASSIFICATION);
    await train(trainable, [row('great stuff', 'positive'), row('awful stuff', 'negative', 1)], 2);
    const texts = ['GREAT, but not cheap!', 'the zorblat', 'not good at all'];
    const before = await predict(trainable, texts);
    const reloaded = await loadTrainable(await saveToBlobs(trainable.model));
    expect(reloaded.metadata).toMatchObject({ architecture: 'lexicon-fasttext', labels, lexiconFeatures: LEXICON_FEATURE_COUNT });
    expect(await predict(reloaded, texts)).toEqual(before);
    reloaded.dispose();
    trainable.dispose();

    const narrow = createLexiconFastText({ ...small, lexiconFeatures: 3 });
    expect(() => lexiconClassifier({ ...small, lexiconFeaturesVersion: 1 } as typeof small, TEXT_CLASSIFICATION, narrow)).toThrow(LexiconFeaturesMismatchError);
    expect(() => lexiconClassifier({ ...small, lexiconFeaturesVersion: 1 } as typeof small, TEXT_CLASSIFICATION, narrow)).toThrow('this model takes 3 lexicon features, but lexicon features version 1 has 15');
    narrow.dispose();
    const later = createLexiconFastText({ ...small, lexiconFeatures: LEXICON_FEATURE_COUNT });
    expect(() => lexiconClassifier({ ...small, lexiconFeaturesVersion: 99 } as typeof small, TEXT_CLASSIFICATION, later)).toThrow('version 99, which this version of Loupe does not know');
    later.dispose();
  });

  it('keeps feeding a model saved with version-1 features the 15 it was trained on', async () => {
    const first = createLexiconFastText({ ...small, lexiconFeatures: LEXICON_FEATURE_SETS[1].length });
    const old = lexiconClassifier({ ...small, lexiconFeaturesVersion: 1 } as typeof small, TEXT_CLASSIFICATION, first);
    expect(old.metadata).toMatchObject({ lexiconFeaturesVersion: 1, lexiconFeatures: 15, lexiconFeatureNames: [...LEXICON_FEATURE_SETS[1]] });
    const inputs = await old.toInputs([row('not good at all', 'negative')], { training: false });
    const scores = (inputs as tf.Tensor[])[2];
    expect(scores!.shape).toEqual([1, 15]);
    expect(Array.from(await scores!.data())).toEqual(Array.from(lexiconFeatures(preprocessTweet('not good at all'), 1)));
    expect((await predict(old, ['not good at all'])).probabilities[0]).toHaveLength(2);
    tf.dispose(inputs);
    old.dispose();
    const fresh = lexiconClassifier(small, TEXT_CLASSIFICATION);
    expect(fresh.metadata).toMatchObject({ lexiconFeaturesVersion: 2, lexiconFeatures: LEXICON_FEATURE_COUNT });
    fresh.dispose();
  });

  it('leaks no tensors while training, predicting and disposing', async () => {
    const before = tf.memory().numTensors;
    const trainable = lexiconClassifier(small, TEXT_CLASSIFICATION);
    await train(trainable, [row('great', 'positive'), row('awful', 'negative', 1), row('meh', 'negative', 2)], 2);
    await predict(trainable, ['fine', 'not fine']);
    trainable.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
