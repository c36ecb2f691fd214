import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import { preprocessTweet } from '$lib/text/preprocess';
import { classificationMetrics } from '$lib/training/metrics';
import { featurize } from '$models/text/features';
import { createFastText, DEFAULT_FASTTEXT, type FastTextConfig } from '$models/text/fasttext';
import type { Prediction, TaskDefinition, TrainableModel } from './types';
import { probabilityCrossEntropy } from './losses';

/**
 * Text classification. Its class names come from each dataset (stored on the dataset version and in
 * the model's metadata): 3-class tweet sentiment is the preset, binary review sentiment works as well.
 */
export const SENTIMENT: TaskDefinition = {
  name: 'sentiment',
  title: 'Text classification (sentiment preset)',
  kind: 'classification',
  primaryMetric: 'accuracy',
  greaterIsBetter: true,
  guardMetrics: ['macroF1'],
  defaultLabels: ['negative', 'neutral', 'positive'],
};

export class LabelError extends Error {
  override name = 'LabelError';
}

/** Index of a stored label among `labels`: the label itself (exact, else ignoring case) or its index (0/1/2). */
export function labelIndex(label: string | number, labels: readonly string[], where: string): number {
  const exact = typeof label === 'number' ? label : labels.indexOf(label);
  const index = exact >= 0 || typeof label === 'number' ? exact : labels.findIndex((l) => l.toLowerCase() === label.toLowerCase());
  if (!Number.isInteger(index) || index < 0 || index >= labels.length) {
    throw new LabelError(`${where}: unknown label ${JSON.stringify(label)}; expected one of ${labels.join(', ')} or 0…${labels.length - 1}`);
  }
  return index;
}

/** Probabilities [batch, classes] → one classification prediction per row. */
export async function decodeProbabilities(output: tf.Tensor, labels: readonly string[]): Promise<Prediction[]> {
  const [batch = 0, classes = 0] = output.shape;
  const values = await output.data();
  const predictions: Prediction[] = [];
  for (let i = 0; i < batch; i++) {
    const probabilities = Array.from(values.subarray(i * classes, (i + 1) * classes));
    let index = 0;
    for (let c = 1; c < classes; c++) if (probabilities[c]! > probabilities[index]!) index = c;
    predictions.push({ kind: 'classification', label: labels[index]!, index, score: probabilities[index]!, probabilities });
  }
  return predictions;
}

/** Accuracy, macro-F1 and per-class figures of classification predictions. */
export function classificationScores(targets: number[], predictions: Prediction[], labels: readonly string[]): Record<string, number> {
  const predicted = predictions.map((p) => (p.kind === 'classification' ? p.index : -1));
  const m = classificationMetrics(targets, predicted, labels);
  return { accuracy: m.accuracy, macroF1: m.macroF1 };
}

/**
 * The fastText text classifier as a trainable model (sentiment, or any label set).
 * @example const trainable = fastTextClassifier({ ...DEFAULT_FASTTEXT, labels: ['negative', 'neutral', 'positive'] });
 */
export function fastTextClassifier(config: FastTextConfig, task: TaskDefinition = SENTIMENT, loaded?: tf.LayersModel): TrainableModel {
  const { maxFeatures } = config;
  return softmaxTextClassifier({
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

/**
 * A text classifier whose model ends in a softmax over `labels`: everything but how texts become inputs
 * (fastText's n-grams, with or without lexicon features). Stores `metadata` in the model for reloading.
 */
export function softmaxTextClassifier(parts: {
  task: TaskDefinition;
  model: tf.LayersModel;
  metadata: Record<string, unknown>;
  labels: readonly string[];
  toInputs: TrainableModel['toInputs'];
}): TrainableModel {
  const { task, model, metadata, toInputs } = parts;
  const labels = [...parts.labels];
  model.setUserDefinedMetadata({ loupe: metadata });
  const target = (row: SampleRow) => labelIndex(row.label, labels, `sample ${row.path}`);
  return {
    task,
    model,
    metadata,
    labels: [...labels],
    loss: probabilityCrossEntropy,
    toInputs,
    toTargets: (rows) => oneHotTargets(rows.map(target), labels.length),
    decode: (output) => decodeProbabilities(output, labels),
    target,
    metrics: (rows, predictions) => classificationScores(rows.map(target), predictions, labels),
    dispose: () => model.dispose(),
  };
}

/** Class indices → one-hot targets [n, classes]. */
export function oneHotTargets(indices: number[], classes: number): tf.Tensor {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(indices, 'int32'), classes));
}

export { DEFAULT_FASTTEXT };
