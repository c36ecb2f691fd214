import * as tf from '@tensorflow/tfjs';
import type { BackendName, SampleRow, TaskName } from '$lib/db/types';
import type { Batch, LossFn } from '$lib/training/loop';

/** Inputs and targets of labelled samples: the batch the training loop and evaluation consume. */
export async function toBatch(
  trainable: TrainableModel,
  rows: SampleRow[],
  options: { training: boolean; random?: () => number },
): Promise<Batch> {
  const xs = await trainable.toInputs(rows, options);
  try {
    return { xs, ys: trainable.toTargets(rows), size: rows.length };
  } catch (error) {
    tf.dispose(xs);
    throw error;
  }
}

/** What is fixed about a task, for every model of it (DESIGN.md "The three tasks"). */
export interface TaskDefinition {
  name: TaskName;
  title: string;
  kind: 'regression' | 'classification';
  /** The metric the promotion gate and early stopping judge by. */
  primaryMetric: string;
  greaterIsBetter: boolean;
  /** Also reported, and guarded against regressions by the gate. */
  guardMetrics: string[];
  defaultLabels?: readonly string[];
}

/** One example's prediction: a year, or a label with its probabilities. */
export type Prediction =
  | { kind: 'regression'; value: number }
  | { kind: 'classification'; label: string; index: number; score: number; probabilities: number[] };

/**
 * A model of a task, ready to train and evaluate: the tfjs model plus everything that turns stored
 * samples into tensors and outputs back into predictions. `metadata` is saved with the weights
 * (labels, normalisation, feature settings) so a reloaded model predicts the same.
 */
export interface TrainableModel {
  task: TaskDefinition;
  model: tf.LayersModel;
  metadata: Record<string, unknown>;
  /** Class names in output order (classification only). */
  labels?: string[];
  loss: LossFn;
  /**
   * Samples → model inputs (decoding images, featurising text); `random` drives augmentation when
   * training. Rows need only their inputs (`text` or `blobs`), so served requests use it too.
   */
  toInputs(rows: SampleRow[], options: { training: boolean; random?: () => number }): Promise<tf.Tensor | tf.Tensor[]>;
  /** Labelled samples → the targets the loss compares the output with. */
  toTargets(rows: SampleRow[]): tf.Tensor;
  /** Model output for a batch → one prediction per example (reads the tensor back once). */
  decode(output: tf.Tensor): Promise<Prediction[]>;
  /** The target of a stored sample in the same terms as its prediction. */
  target(row: SampleRow): number;
  /** Metrics of predictions against stored samples (keys without the `val_` prefix). */
  metrics(rows: SampleRow[], predictions: Prediction[]): Record<string, number>;
  /** Frees every weight, nested backbones included. */
  dispose(): void;
  /**
   * Where the model's predictions are computed when that is not tfjs's active backend: transformers.js
   * models run in ONNX Runtime's WebAssembly build whatever tfjs uses. Logged with every prediction.
   */
  runtime?: BackendName;
}
