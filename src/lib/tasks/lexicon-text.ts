import * as tf from '@tensorflow/tfjs';
import { cachedLexiconFeatures, LEXICON_FEATURE_COUNT, LEXICON_FEATURE_NAMES, LEXICON_FEATURES_VERSION } from '$lib/text/lexicon/features';
import { preprocessTweet } from '$lib/text/preprocess';
import { featurize } from '$models/text/features';
import { createLexiconFastText, DEFAULT_LEXICON_FASTTEXT, type LexiconFastTextConfig } from '$models/text/lexicon-fasttext';
import { SENTIMENT, softmaxTextClassifier } from './text-classification';
import type { TaskDefinition, TrainableModel } from './types';

export class LexiconFeaturesMismatchError extends Error {
  override name = 'LexiconFeaturesMismatchError';
}

/** What a lexicon-aware model is built from (the lexicon width is fixed by this version of Loupe). */
export type LexiconClassifierConfig = Omit<LexiconFastTextConfig, 'lexiconFeatures'>;

/**
 * The lexicon-aware text classifier as a trainable model: fastText's hashed n-grams plus VADER and AFINN
 * features (`src/lib/text/lexicon`), weighed by one learned softmax layer. Lexicon scoring sees the text
 * with its case and punctuation (VADER reads ALL CAPS and "!"), after the task's tweet preprocessing.
 * @example const trainable = lexiconClassifier({ ...DEFAULT_LEXICON_FASTTEXT, labels: ['negative', 'positive'] });
 */
export function lexiconClassifier(config: LexiconClassifierConfig, task: TaskDefinition = SENTIMENT, loaded?: tf.LayersModel): TrainableModel {
  const full: LexiconFastTextConfig = { ...config, lexiconFeatures: LEXICON_FEATURE_COUNT };
  if (loaded) {
    const width = loaded.inputs[2]?.shape[1];
    const version = (config as { lexiconFeaturesVersion?: number }).lexiconFeaturesVersion ?? LEXICON_FEATURES_VERSION;
    if (width !== LEXICON_FEATURE_COUNT || version !== LEXICON_FEATURES_VERSION) {
      const trained = width === undefined ? 'has no lexicon input' : `was trained on ${width} lexicon features (version ${version})`;
      throw new LexiconFeaturesMismatchError(
        `this model ${trained}; this version of Loupe computes ${LEXICON_FEATURE_COUNT} (version ${LEXICON_FEATURES_VERSION}: ${LEXICON_FEATURE_NAMES.join(', ')}): retrain it here`,
      );
    }
  }
  const { maxFeatures } = config;
  const lexicon = cachedLexiconFeatures();
  return softmaxTextClassifier({
    task,
    model: loaded ?? createLexiconFastText(full),
    metadata: { task: task.name, architecture: 'lexicon-fasttext', ...full, lexiconFeatureNames: [...LEXICON_FEATURE_NAMES], lexiconFeaturesVersion: LEXICON_FEATURES_VERSION },
    labels: config.labels,
    async toInputs(rows) {
      const n = rows.length;
      const ids = new Int32Array(n * maxFeatures);
      const weights = new Float32Array(n * maxFeatures);
      const scores = new Float32Array(n * LEXICON_FEATURE_COUNT);
      rows.forEach((row, i) => {
        const text = preprocessTweet(row.text ?? '');
        const features = featurize(text, config);
        ids.set(features.ids, i * maxFeatures);
        weights.set(features.weights, i * maxFeatures);
        scores.set(lexicon(text), i * LEXICON_FEATURE_COUNT);
      });
      return [tf.tensor2d(ids, [n, maxFeatures], 'int32'), tf.tensor2d(weights, [n, maxFeatures]), tf.tensor2d(scores, [n, LEXICON_FEATURE_COUNT])];
    },
  });
}

export { DEFAULT_LEXICON_FASTTEXT };
