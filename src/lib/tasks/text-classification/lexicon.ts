import * as tf from '@tensorflow/tfjs';
import { isLexiconFeaturesVersion, LEXICON_FEATURE_SETS, LEXICON_FEATURES_VERSION, lexiconFeaturizer, type LexiconFeaturesVersion } from '$lib/text/lexicon/features';
import { preprocessTweet } from '$lib/text/preprocess';
import { featurize } from '$models/text/features';
import { createLexiconFastText, type LexiconFastTextConfig } from '$models/text/lexicon-fasttext';
import { softmaxClassifier } from '../classification';
import type { TaskDefinition, TrainableModel } from '../types';

export class LexiconFeaturesMismatchError extends Error {
  override name = 'LexiconFeaturesMismatchError';
}

/** What a lexicon-aware model is built from (the lexicon width is fixed by this version of Loupe). */
export type LexiconClassifierConfig = Omit<LexiconFastTextConfig, 'lexiconFeatures'>;

/**
 * The lexicon-aware text classifier as a trainable model: fastText's hashed n-grams plus lexicon features
 * (`src/lib/text/lexicon`: VADER, AFINN, Bing Liu's opinion words, GloVe-induced valences), weighed by one
 * learned softmax layer. Lexicon scoring sees the text
 * with its case and punctuation (VADER reads ALL CAPS and "!"), after the task's tweet preprocessing.
 * @example const trainable = lexiconClassifier({ ...DEFAULT_LEXICON_FASTTEXT, labels: ['negative', 'positive'] });
 */
export function lexiconClassifier(config: LexiconClassifierConfig, task: TaskDefinition, loaded?: tf.LayersModel): TrainableModel {
  // A saved model keeps the features it was trained with; a new one gets this version's.
  const version = loaded ? savedVersion(config, loaded) : LEXICON_FEATURES_VERSION;
  const names = LEXICON_FEATURE_SETS[version];
  const width = names.length;
  const full: LexiconFastTextConfig = { ...config, lexiconFeatures: width };
  const { maxFeatures } = config;
  // Loaded on first use: version 2 fetches the induced valences (its own chunk).
  let featurizer: ReturnType<typeof lexiconFeaturizer> | undefined;
  return softmaxClassifier({
    task,
    model: loaded ?? createLexiconFastText(full),
    metadata: { task: task.name, architecture: 'lexicon-fasttext', ...full, lexiconFeatureNames: [...names], lexiconFeaturesVersion: version },
    labels: config.labels,
    async toInputs(rows) {
      const n = rows.length;
      const ids = new Int32Array(n * maxFeatures);
      const weights = new Float32Array(n * maxFeatures);
      const lexicon = await (featurizer ??= lexiconFeaturizer(version));
      const scores = new Float32Array(n * width);
      rows.forEach((row, i) => {
        const text = preprocessTweet(row.text ?? '');
        const features = featurize(text, config);
        ids.set(features.ids, i * maxFeatures);
        weights.set(features.weights, i * maxFeatures);
        scores.set(lexicon(text), i * width);
      });
      return [tf.tensor2d(ids, [n, maxFeatures], 'int32'), tf.tensor2d(weights, [n, maxFeatures]), tf.tensor2d(scores, [n, width])];
    },
  });
}

/** The feature version a saved model was trained with, checked against its lexicon input's width. */
function savedVersion(config: LexiconClassifierConfig, loaded: tf.LayersModel): LexiconFeaturesVersion {
  const recorded = (config as { lexiconFeaturesVersion?: unknown }).lexiconFeaturesVersion ?? 1;
  const width = loaded.inputs[2]?.shape[1];
  if (!isLexiconFeaturesVersion(recorded)) {
    throw new LexiconFeaturesMismatchError(`this model was trained on lexicon features version ${JSON.stringify(recorded)}, which this version of Loupe does not know (it knows ${Object.keys(LEXICON_FEATURE_SETS).join(', ')}): update Loupe or retrain the model here`);
  }
  if (width !== LEXICON_FEATURE_SETS[recorded].length) {
    const has = width === undefined ? 'has no lexicon input' : `takes ${width} lexicon features`;
    throw new LexiconFeaturesMismatchError(`this model ${has}, but lexicon features version ${recorded} has ${LEXICON_FEATURE_SETS[recorded].length}: the saved model is inconsistent; retrain it here`);
  }
  return recorded;
}

