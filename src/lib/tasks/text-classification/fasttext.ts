import * as tf from '@tensorflow/tfjs';
import { preprocessTweet } from '$lib/text/preprocess';
import { featurize } from '$models/text/features';
import { createFastText, type FastTextConfig } from '$models/text/fasttext';
import { softmaxClassifier } from '../classification';
import type { TaskDefinition, TrainableModel } from '../types';

/**
 * The fastText text classifier as a trainable model (sentiment, or any label set).
 * @example const trainable = fastTextClassifier({ ...DEFAULT_FASTTEXT, labels: ['negative', 'neutral', 'positive'] });
 */
export function fastTextClassifier(config: FastTextConfig, task: TaskDefinition, loaded?: tf.LayersModel): TrainableModel {
  const { maxFeatures } = config;
  return softmaxClassifier({
    task,
    model: loaded ?? createFastText(config),
    metadata: { task: task.name, architecture: 'fasttext', ...config },
    labels: config.labels,
    async toInputs(rows) {
      const n = rows.length;
      const ids = new Int32Array(n * maxFeatures);
      const weights = new Float32Array(n * maxFeatures);
      rows.forEach((row, i) => {
        const features = featurize(preprocessTweet(row.text ?? ''), config);
        ids.set(features.ids, i * maxFeatures);
        weights.set(features.weights, i * maxFeatures);
      });
      return [tf.tensor2d(ids, [n, maxFeatures], 'int32'), tf.tensor2d(weights, [n, maxFeatures])];
    },
  });
}
