import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import { classificationMetrics } from './metrics';
import type { Prediction, TaskDefinition, TrainableModel } from './types';
import { probabilityCrossEntropy } from './losses';

/** What every classification task answers with, one column per output (MLflow column specs). */
export const CLASSIFIER_OUTPUTS: NonNullable<TaskDefinition['serving']['outputs']> = [
  { name: 'label', type: 'string' },
  { name: 'score', type: 'double' },
];

/** The promotion gate's default bars for classifiers: accuracy ≥ 0.5 and up by half a point; macro-F1 may slip by 0.02. */
export const CLASSIFIER_GATE: TaskDefinition['gate'] = { threshold: 0.5, minAbsoluteChange: 0.005, guardTolerance: 0.02 };

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
 * A classifier whose model ends in a softmax over `labels`: everything but how samples become inputs
 * (images, fastText's n-grams, lexicon features). Stores `metadata` in the model for reloading.
 */
export function softmaxClassifier(parts: {
  task: TaskDefinition;
  model: tf.LayersModel;
  metadata: Record<string, unknown>;
  labels: readonly string[];
  toInputs: TrainableModel['toInputs'];
  /** Frees the model (and nested backbones); `model.dispose()` by default. */
  dispose?: () => void;
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
    dispose: parts.dispose ?? (() => model.dispose()),
  };
}

/** Class indices → one-hot targets [n, classes]. */
export function oneHotTargets(indices: number[], classes: number): tf.Tensor {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(indices, 'int32'), classes));
}

