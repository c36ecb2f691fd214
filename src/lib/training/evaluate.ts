import * as tf from '@tensorflow/tfjs';
import type { LoupeDb } from '$lib/db/db';
import type { SampleRow } from '$lib/db/types';
import { toBatch, type Prediction, type TrainableModel } from '$lib/tasks/types';

export interface Evaluation {
  metrics: Record<string, number>;
  rows: SampleRow[];
  predictions: Prediction[];
}

/** Reads samples by id in chunks, so evaluation never loads a whole split's images at once. */
export async function* sampleChunks(db: LoupeDb, ids: readonly string[], size: number): AsyncGenerator<SampleRow[]> {
  for (let i = 0; i < ids.length; i += size) {
    const rows = await db.samples.bulkGet(ids.slice(i, i + size) as string[]);
    const missing = rows.findIndex((r) => r === undefined);
    if (missing >= 0) throw new Error(`sample ${ids[i + missing]} disappeared from the dataset during training`);
    yield rows as SampleRow[];
  }
}

/** Another way to the same predictions: `model` on `inputs` (a frozen backbone's stored features and the head). */
export interface EvaluationForward {
  model: tf.LayersModel;
  inputs(rows: SampleRow[]): Promise<tf.Tensor | tf.Tensor[]>;
}

/**
 * Predicts every sample in `ids` (in inference mode) and scores the predictions, plus the mean loss.
 * Used after each epoch, for error analysis, and by the promotion gate on its evaluation set.
 */
export async function evaluateSamples(
  db: LoupeDb,
  trainable: TrainableModel,
  ids: readonly string[],
  batchSize: number,
  forward?: EvaluationForward,
): Promise<Evaluation> {
  if (ids.length === 0) throw new Error('the evaluation split is empty: give the dataset a validation or test split');
  const rows: SampleRow[] = [];
  const predictions: Prediction[] = [];
  let lossSum = 0;
  for await (const chunk of sampleChunks(db, ids, batchSize)) {
    const { xs, ys, size } = forward ? { xs: await forward.inputs(chunk), ys: trainable.toTargets(chunk), size: chunk.length } : await toBatch(trainable, chunk, { training: false });
    try {
      const output = tf.tidy(() => (forward?.model ?? trainable.model).predict(xs) as tf.Tensor);
      const loss = tf.tidy(() => trainable.loss(ys, output));
      try {
        // Both reads in flight at once: on a GPU backend that is one wait for the device, not two.
        const [decoded, [value = Number.NaN]] = await Promise.all([trainable.decode(output), loss.data()]);
        predictions.push(...decoded);
        lossSum += value * size;
      } finally {
        tf.dispose([output, loss]);
      }
    } finally {
      tf.dispose([xs, ys]);
    }
    rows.push(...chunk);
  }
  return { metrics: { loss: lossSum / rows.length, ...trainable.metrics(rows, predictions) }, rows, predictions };
}

/**
 * Metrics under the names runs log for the validation split (Keras's): `accuracy` → `val_accuracy`.
 * @example valPrefixed({ accuracy: 0.9 }) // { val_accuracy: 0.9 }
 */
export const valPrefixed = (metrics: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`val_${k}`, v]));

/** Figures of a model on one split of a dataset version, and how many samples they stand on. */
export interface SplitEvaluation {
  split: 'test' | 'val';
  samples: number;
  metrics: Record<string, number>;
}

/**
 * Scores a model on a dataset version's held-out data — the first of `splits` that has samples (by
 * default its `test` split, else its `val` split) — and says which split and how many samples.
 * @example await evaluateHeldOutSplit(db, trainable, datasetId) // { split: 'test', samples: 120, metrics: { loss: 0.52, accuracy: 0.71, macroF1: 0.69 } }
 */
export async function evaluateHeldOutSplit(
  db: LoupeDb,
  trainable: TrainableModel,
  datasetId: string,
  { batchSize = 32, splits = ['test', 'val'] }: { batchSize?: number; splits?: readonly ('test' | 'val')[] } = {},
): Promise<SplitEvaluation> {
  const dataset = await db.datasets.get(datasetId);
  if (!dataset) throw new Error(`evaluation dataset ${datasetId} does not exist`);
  if (dataset.task !== trainable.task.name) throw new Error(`dataset "${dataset.name}" is for ${dataset.task}, not ${trainable.task.name}`);
  for (const split of splits) {
    const ids = (await db.samples.where('[datasetId+split]').equals([datasetId, split]).primaryKeys()) as string[];
    if (ids.length) return { split, samples: ids.length, metrics: (await evaluateSamples(db, trainable, ids.sort(), batchSize)).metrics };
  }
  throw new Error(`dataset "${dataset.name}" has no ${splits.join(' or ')} split to evaluate on`);
}

/** Metrics of a model on a dataset version's held-out data: its `test` split, else its `val` split. */
export async function evaluateHeldOut(db: LoupeDb, trainable: TrainableModel, datasetId: string, batchSize = 32): Promise<Record<string, number>> {
  return (await evaluateHeldOutSplit(db, trainable, datasetId, { batchSize })).metrics;
}
