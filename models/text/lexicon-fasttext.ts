import * as tf from '@tensorflow/tfjs';
import { EmbeddingBag } from './embedding-bag';
import { DEFAULT_FASTTEXT, FastTextConfigError, type FastTextConfig } from './fasttext';

export interface LexiconFastTextConfig extends FastTextConfig {
  /** Width of the lexicon feature vector (the third input). */
  lexiconFeatures: number;
  /**
   * Probability of dropping an example's whole n-gram representation while training. On a few thousand
   * sentences the n-grams memorise the training set, and the classifier would learn to ignore the lexicon
   * features; dropping the n-grams of some examples makes it learn to classify from the lexicons alone too.
   */
  ngramDropout: number;
}

export const DEFAULT_LEXICON_FASTTEXT: Omit<LexiconFastTextConfig, 'labels' | 'lexiconFeatures'> = {
  ...DEFAULT_FASTTEXT,
  ngramDropout: 0.8,
};

function check(condition: boolean, field: string, expected: string, got: unknown): void {
  if (!condition) throw new FastTextConfigError(`${field} must be ${expected}, got ${JSON.stringify(got)}`);
}

/**
 * fastText with lexicon features: the average of hashed n-gram embeddings and a vector of lexicon scores
 * (VADER, AFINN), concatenated, then one softmax layer — a learned weighing of what the training data
 * taught against what the lexicons know, with its own threshold (the bias). Inputs: `ids` and `weights`
 * as in `createFastText`, and `lexicon` [batch, lexiconFeatures].
 * @example createLexiconFastText({ ...DEFAULT_LEXICON_FASTTEXT, lexiconFeatures: 10, labels: ['negative', 'positive'] })
 */
export function createLexiconFastText(config: LexiconFastTextConfig): tf.LayersModel {
  check(Number.isInteger(config.buckets) && config.buckets > 0, 'buckets', 'a positive integer', config.buckets);
  check(Number.isInteger(config.dim) && config.dim > 0, 'dim', 'a positive integer', config.dim);
  check(Number.isInteger(config.maxFeatures) && config.maxFeatures > 0, 'maxFeatures', 'a positive integer', config.maxFeatures);
  check(Number.isInteger(config.lexiconFeatures) && config.lexiconFeatures > 0, 'lexiconFeatures', 'a positive integer', config.lexiconFeatures);
  check(config.ngramDropout >= 0 && config.ngramDropout < 1, 'ngramDropout', 'a number in [0, 1)', config.ngramDropout);
  check(Array.isArray(config.labels) && config.labels.length >= 2, 'labels', 'a list of at least 2 labels', config.labels);

  const seed = config.seed ?? 1;
  const ids = tf.input({ shape: [config.maxFeatures], dtype: 'int32', name: 'ids' });
  const weights = tf.input({ shape: [config.maxFeatures], name: 'weights' });
  const lexicon = tf.input({ shape: [config.lexiconFeatures], name: 'lexicon' });
  let ngrams = new EmbeddingBag({ inputDim: config.buckets + 1, outputDim: config.dim, seed, name: 'ngram_average' }).apply([ids, weights]) as tf.SymbolicTensor;
  if (config.ngramDropout > 0) {
    // noiseShape [batch, 1]: one draw per example drops (or keeps) its whole n-gram vector.
    ngrams = tf.layers.dropout({ rate: config.ngramDropout, noiseShape: [null, 1] as unknown as number[], seed: seed + 2, name: 'ngram_dropout' }).apply(ngrams) as tf.SymbolicTensor;
  }
  const joined = tf.layers.concatenate({ name: 'ngrams_and_lexicon' }).apply([ngrams, lexicon]) as tf.SymbolicTensor;
  const probabilities = tf.layers
    .dense({ units: config.labels.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), name: 'classifier' })
    .apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: [ids, weights, lexicon], outputs: probabilities, name: 'lexicon_fasttext' });
}
