import * as tf from '@tensorflow/tfjs';
import type { BackendName, SampleRow, TaskName } from '$lib/db/types';
import type { ModelSignature, ModelSpec } from '$lib/db/specs';
import type { ImageType } from '$lib/images/structure';
import type { AugmentOptions } from '$lib/images/augment';

/** One batch the training loop and evaluation consume. */
export interface Batch {
  xs: tf.Tensor | tf.Tensor[];
  ys: tf.Tensor;
  size: number;
}

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

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

/** What one example of a task is: it decides the dataset columns, the REST fields and the Predict form. */
export type InputKind = 'image' | 'image-pair' | 'text';

/** Image formats the studio accepts, recognised by their magic bytes (never by a name or a header). */
export type { ImageType };

/** An encoded image (PNG/JPEG/WebP/GIF bytes), checked to be one; decoding to pixels is the model's job. */
export interface ImageInput {
  bytes: Uint8Array;
  type: ImageType;
}

/** One served example, in the shape of its task's input kind. */
export interface InputsByKind {
  image: { image: ImageInput };
  'image-pair': { front: ImageInput; back: ImageInput };
  text: { text: string };
}

export type ServingInput = InputsByKind[InputKind];

/**
 * A field of a task's requests: its REST column (MLflow `inputs` records, `dataframe_split` columns), the
 * key of the served input it fills, and the word the studio uses for it (CLI flag, Predict form, errors).
 */
export interface ServingField {
  name: string;
  kind: 'image' | 'text';
  key: 'image' | 'front' | 'back' | 'text';
  label: string;
  /** What the Predict form asks for. */
  prompt: string;
}

/** A named class list (car-damage severity, sentiment): it names and orders classes, and suggests a model name. */
export interface LabelPreset {
  id: string;
  title: string;
  labels: readonly string[];
  /** What goes in and comes out, for task pickers: `photo → minor / moderate / major`. */
  summary: string;
  /** Who numbers the classes 0, 1, 2 in this order (`tweet_eval`), named when an upload's numeric labels are read by it. */
  numbering?: string;
  /** The class names of an upload labelled only 0/1 under this preset (sentiment: negative, positive). */
  binary?: readonly string[];
  /** What an upload may look like under this preset, where it says more than the task's `dataset.formats`. */
  formats?: string;
  /** The model card's intended use and limits for models of this preset's data, instead of the task's. */
  card?: { intendedUse: string; limits: readonly string[] };
  /**
   * The model new runs and sweeps on this preset's data start from, where it differs from the task's
   * (`defaults.model`): a model that knows the preset's domain (sentiment lexicons) can beat one that
   * suits any label set. Pipelines keep the task's pipeline recipe.
   */
  model?: ModelSpec;
}

/** A task's training recipe: the one table the Train page, the CLI, sweeps and pipelines start from. */
export interface TrainingDefaults {
  model: ModelSpec;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Early-stopping patience in epochs, on the primary validation metric. */
  patience: number;
  /** Pipelines retrain often (the gate decides whether it was worth it): a smaller, quicker model. */
  pipeline: { model: ModelSpec; epochs: number; patience: number };
}

/** A starting point for the sweep editor: a sweep definition in Weights & Biases' schema (src/lib/sweeps). */
export interface SweepExample {
  title: string;
  definition: Record<string, unknown>;
}

/** What building a model may need from the training data. */
export interface TrainableContext {
  seed: number;
  /** Class names (classification): the dataset's; defaults to the task's preset. */
  labels?: string[];
  /** Training targets of regression tasks, to fit the target's normalisation. */
  trainingTargets?: number[];
  /** The train split's texts and labels (text tasks): what NB-SVM fits its n-gram ratios on. */
  trainingTexts?: readonly Pick<SampleRow, 'text' | 'label' | 'path'>[];
  /** The backbone's BatchNorm epsilon, when its first weights were trained with another than ours (timm's). */
  batchNormEpsilon?: number;
  /**
   * The saved metadata of a version whose head this model starts from (a warm start): the model keeps
   * what that head's outputs mean, such as the coin year scale, instead of fitting its own.
   */
  headFrom?: Record<string, unknown>;
}

/**
 * Everything about one task (DESIGN.md "The three tasks"), in its folder under src/lib/tasks: the rest of
 * the studio asks this instead of comparing task names (as transformers.js's `SUPPORTED_TASKS` does).
 */
export interface TaskDefinition {
  name: TaskName;
  title: string;
  /** What goes in and comes out, for task pickers: `front + back photo → year`. */
  summary: string;
  input: InputKind;
  kind: 'regression' | 'classification';
  /** The metric the promotion gate and early stopping judge by. */
  primaryMetric: string;
  greaterIsBetter: boolean;
  /** Also reported, and guarded against regressions by the gate. */
  guardMetrics: string[];
  /** Every metric its evaluation reports besides the loss (the keys of `TrainableModel.metrics`), the primary first. */
  metricNames: readonly string[];
  /** The promotion gate's default bars for the primary metric (lenient: users tune them per model). */
  gate: { threshold: number; minAbsoluteChange: number; guardTolerance: number };
  /** Named class lists; the first is the default. Classes of a dataset are the labels in it. */
  presets: readonly LabelPreset[];
  /** Architectures that serve the task, the default first. */
  architectures: readonly ModelSpec['architecture'][];
  defaults: TrainingDefaults;
  /** Columns of an import manifest and what an upload may look like (datasets' format help). */
  dataset: { columns: readonly string[]; formats: string; unit: { one: string; many: string } };
  /** Request fields and the MLflow output columns. */
  serving: { fields: readonly ServingField[]; outputs: ModelSignature['outputs']; example: Record<string, string> };
  /** Example sweeps, the first shown by default. */
  sweepExamples: readonly SweepExample[];
  /** The model card's intended use and known limits. */
  card: { intendedUse: string; limits: readonly string[] };
  /** Image tasks: the augmentation policy a model's `augmentation: 'default'` (or none given) means. */
  augmentation?: AugmentOptions;
  /** A fresh trainable model of one of `architectures`. */
  createTrainable(spec: ModelSpec, context: TrainableContext): TrainableModel;
  /** A saved model of this task, from the `loupe` metadata its model.json carries. */
  loadTrainable(metadata: Record<string, unknown>, model: tf.LayersModel): TrainableModel;
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
  /**
   * How training images are augmented (image models): what an exported cluster job reproduces, and
   * whether frozen epochs may reuse backbone features (`augments` false: the same inputs every epoch).
   */
  augmentation?: AugmentOptions;
}
