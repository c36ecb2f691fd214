import * as tf from '@tensorflow/tfjs';
import { EmbeddingBag } from './embedding-bag';
import { DEFAULT_TEXT_FEATURES, type TextFeatureConfig } from './features';

export interface FastTextConfig extends TextFeatureConfig {
  /** Embedding width. */
  dim: number;
  labels: string[];
  seed?: number;
}

export const DEFAULT_FASTTEXT: Omit<FastTextConfig, 'labels'> = { ...DEFAULT_TEXT_FEATURES, dim: 32 };

export class FastTextConfigError extends Error {
  override name = 'FastTextConfigError';
}

function check(condition: boolean, field: string, expected: string, got: unknown): void {
  if (!condition) throw new FastTextConfigError(`${field} must be ${expected}, got ${JSON.stringify(got)}`);
}

/**
 * A fastText classifier: the weighted average of hashed n-gram embeddings, then softmax. Inputs are
 * `ids` [batch, maxFeatures] (int32, 0 = padding) and `weights` [batch, maxFeatures] (1/count for real
 * features, 0 for padding), so the average is a single Dot layer and padding costs nothing.
 * @example createFastText({ ...DEFAULT_FASTTEXT, labels: ['negative', 'neutral', 'positive'] })
 */
export function createFastText(config: FastTextConfig): tf.LayersModel {
  check(Number.isInteger(config.buckets) && config.buckets > 0, 'buckets', 'a positive integer', config.buckets);
  check(Number.isInteger(config.dim) && config.dim > 0, 'dim', 'a positive integer', config.dim);
  check(Number.isInteger(config.maxFeatures) && config.maxFeatures > 0, 'maxFeatures', 'a positive integer', config.maxFeatures);
  check(Number.isInteger(config.wordNgrams) && config.wordNgrams >= 1, 'wordNgrams', 'an integer ≥ 1', config.wordNgrams);
  check(Array.isArray(config.labels) && config.labels.length >= 2, 'labels', 'a list of at least 2 labels', config.labels);
  const [minN, maxN] = config.charNgrams;
  check(minN === 0 ? maxN === 0 : minN >= 1 && maxN >= minN, 'charNgrams', '[min, max] with 1 ≤ min ≤ max, or [0, 0]', config.charNgrams);

  const seed = config.seed ?? 1;
  const ids = tf.input({ shape: [config.maxFeatures], dtype: 'int32', name: 'ids' });
  const weights = tf.input({ shape: [config.maxFeatures], name: 'weights' });
  const averaged = new EmbeddingBag({ inputDim: config.buckets + 1, outputDim: config.dim, seed, name: 'ngram_average' }).apply([
    ids,
    weights,
  ]) as tf.SymbolicTensor;
  const probabilities = tf.layers
    .dense({
      units: config.labels.length,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      name: 'classifier',
    })
    .apply(averaged) as tf.SymbolicTensor;
  return tf.model({ inputs: [ids, weights], outputs: probabilities, name: 'fasttext' });
}
