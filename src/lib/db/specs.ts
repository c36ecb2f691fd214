/**
 * Persisted specs of training: what a run row stores as its params, and what pipelines and sweeps keep
 * to start runs. They sit with the row types so the database layer describes everything it stores
 * without importing the layers that act on it; those layers re-export them.
 */
import type { CoinRegressorConfig, DamageClassifierConfig } from '$models/index';
import type { SmallCnnConfig } from '$models/small-cnn';

/** The studio's tasks: each is a folder under src/lib/tasks and a line of its `TASKS`. */
export const TASK_NAMES = ['coin-year', 'image-classification', 'text-classification'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Task names of earlier versions, as they may still appear in bundles and saved model.json files. */
export const RENAMED_TASKS: Readonly<Record<string, TaskName>> = { 'car-damage': 'image-classification', sentiment: 'text-classification' };
export type Split = 'train' | 'val' | 'test' | 'unassigned';
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/**
 * Where a transformers.js model comes from: the Hugging Face hub (by id), a custom host that serves
 * the same layout (`{host}/{model}/resolve/main/…`), a folder the user picked in the browser (its
 * files are kept in Cache Storage under its name), or a folder on disk (Node only: tests, scripts).
 */
export type ModelSource =
  | { kind: 'hub'; modelId: string }
  | { kind: 'host'; host: string; modelId: string; pathTemplate?: string }
  | { kind: 'folder'; name: string }
  | { kind: 'path'; path: string };

/** A model and how to run it: `quantized` loads `onnx/model_quantized.onnx`, else `onnx/model.onnx` (fp32). */
export interface ModelRef {
  source: ModelSource;
  quantized: boolean;
}

/** How the encoder's hidden states become one vector per text. */
export type Pooling = 'mean' | 'cls';

export interface EncoderRef extends ModelRef {
  pooling: Pooling;
}

/** A transformers.js sequence classifier run as-is (the sentiment baseline). */
export interface TransformerSpec {
  architecture: 'transformer';
  model: ModelRef;
}

export type HeadKind = 'linear' | 'mlp';

/** A frozen transformers.js encoder's pooled vectors into a head trained in tfjs. */
export interface EncoderHeadSpec {
  architecture: 'encoder-head';
  encoder: EncoderRef;
  /** Width of the encoder's pooled vectors (its `hidden_size`). */
  dim: number;
  head: HeadKind;
  /** Hidden units of the MLP head. */
  hidden?: number;
  dropout?: number;
}

/** A named augmentation policy: none, mirroring only, or the task's default. */
export type SmallCnnAugmentation = 'none' | 'flip' | 'default';

/**
 * Explicit augmentation settings of an image model (each missing one off): what a run records, so the
 * policy it trained with stays known when a task's default changes.
 */
export interface AugmentationSettings {
  /** Random resized crop: [min, max] fraction of the image's area, 0 < min ≤ max ≤ 1 ([1, 1]: off). */
  cropScale?: [number, number];
  /** Mirror left–right with probability ½. */
  flip?: boolean;
  /** Rotate by a uniform angle in ±this many degrees (0–180). */
  rotateDegrees?: number;
  /** Multiply brightness by 1 ± this, in [0, 1). */
  brightness?: number;
  /** Scale contrast around the mean by 1 ± this, in [0, 1). */
  contrast?: number;
}

/** An image model's `augmentation`: a named policy or explicit settings. Seeded per (run seed, epoch, batch). */
export type Augmentation = SmallCnnAugmentation | AugmentationSettings;

/**
 * How a pretrained backbone is fine-tuned (a vision model spec's `fineTune`, stored with the run): frozen
 * for the first `freezeEpochs` (no backbone gradients; BatchNorm in inference mode), then trained at
 * `backboneLrMultiplier` × the learning rate; the learning rate warms up linearly over `warmupEpochs`,
 * then follows a cosine decay to 0 at the last epoch when `cosine`.
 */
export interface FineTuneSchedule {
  /** Default 0. */
  freezeEpochs?: number;
  /** Default 1. */
  backboneLrMultiplier?: number;
  /** Default 0. */
  warmupEpochs?: number;
  /** Default false. */
  cosine?: boolean;
}

/**
 * What the Train page proposes for fine-tuning, by where the first weights come from. ImageNet weights (hub or
 * file), as fastai's `fine_tune` and the Keras transfer guide do: the new head learns on the frozen backbone
 * first, then the backbone follows at a tenth of the rate, decaying to 0. A registered version was trained here
 * at such rates on such images: it trains on as from scratch — frozen epochs and a tenth of the rate cost it
 * 20–30 points at 50 images per class in docs/quality.md's transfer protocol.
 */
export const FINE_TUNE_PROPOSALS = {
  weights: { freezeEpochs: 2, backboneLrMultiplier: 0.1, warmupEpochs: 0, cosine: true },
  version: { freezeEpochs: 0, backboneLrMultiplier: 1, warmupEpochs: 0, cosine: false },
} as const satisfies Record<string, Required<FineTuneSchedule>>;

/** The proposal for a run's `init` (`hub:…`, `file:…`, `version:…`); none from scratch. */
export function fineTuneProposal(init: string): Required<FineTuneSchedule> | undefined {
  if (init === 'scratch') return undefined;
  return init.startsWith('version:') ? FINE_TUNE_PROPOSALS.version : FINE_TUNE_PROPOSALS.weights;
}

/** Model choices per task; stored with every run. */
export type ModelSpec =
  | { architecture: 'fasttext'; dim?: number; buckets?: number; wordNgrams?: number; charNgrams?: [number, number] }
  | {
      /** fastText n-grams + lexicon features: VADER, AFINN, opinion words, induced valences (models/text/lexicon-fasttext.ts). */
      architecture: 'lexicon-fasttext';
      dim?: number;
      buckets?: number;
      wordNgrams?: number;
      charNgrams?: [number, number];
      ngramDropout?: number;
    }
  | {
      /** NB-SVM: log-count-ratio-scaled word n-grams and a linear classifier (models/text/nbsvm.ts). */
      architecture: 'nbsvm';
      buckets?: number;
      wordNgrams?: number;
      /** Character n-gram lengths inside each word ([0, 0]: none). */
      charNgrams?: [number, number];
      /** Interpolation towards naive Bayes at prediction, in [0, 1] (1: none). */
      beta?: number;
      /** Inverse L2 strength (scikit-learn's C). */
      C?: number;
      /** Count smoothing of the ratios. */
      alpha?: number;
    }
  | ({ architecture: 'coin-regressor'; fineTune?: FineTuneSchedule; augmentation?: Augmentation } & Omit<CoinRegressorConfig, 'seed' | 'yearScale' | 'batchNormEpsilon'>)
  | ({ architecture: 'damage-classifier'; fineTune?: FineTuneSchedule; augmentation?: Augmentation } & Omit<DamageClassifierConfig, 'seed' | 'labels' | 'batchNormEpsilon'>)
  | ({ architecture: 'small-cnn'; augmentation?: Augmentation } & Omit<SmallCnnConfig, 'seed' | 'labels'>)
  | TransformerSpec
  | EncoderHeadSpec;

export interface EarlyStoppingConfig {
  /** The validation metric to watch, e.g. `val_loss` or `val_mae`. */
  monitor: string;
  patience: number;
  minDelta?: number;
  /** Defaults from the metric's name (loss/errors lower, accuracy/F1/R² higher). */
  mode?: 'min' | 'max';
}

/** Everything that defines a training run; stored as the run's params. */
export interface TrainJobSpec {
  name?: string;
  task: TaskName;
  datasetId: string;
  model: ModelSpec;
  epochs: number;
  batchSize: number;
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  seed: number;
  earlyStopping?: EarlyStoppingConfig;
  /** Split used for validation after each epoch. */
  validationSplit?: Split;
  /** Cross-validation: train on the other folds of train+val, validate on fold `index` of `k`. */
  fold?: { k: number; index: number };
  /** Read the loss back every this many batches. */
  readEvery?: number;
  /**
   * Where an image model's backbone starts (`WeightInit`): `scratch` (the default), `hub:<id>`,
   * `file:<name>` (a .safetensors file) or `version:<model>@<n>`.
   */
  init?: WeightInit;
  /**
   * Image models: after the last epoch, replace BatchNorm's running statistics by their average over one
   * pass of the training split without augmentation (torch's `update_bn`), weights unchanged. Recorded as
   * false when not given (the running averages kept during training, which lag the final weights after few
   * steps; docs/fine-tuning.md). The Train page offers it for models with BatchNorm (`hasBatchNorm`).
   */
  recomputeBatchNorm?: boolean;
}

/** `scratch`, `hub:<owner/name>`, `file:<name.safetensors>` or `version:<model>@<n>`; parsed by `parseInit`. */
export type WeightInit = string;

/**
 * A run row's params: a training job's spec (k-fold parents add `kFolds`); a baseline evaluated as-is
 * records only its task, dataset version and model.
 */
export type RunParams = Pick<TrainJobSpec, 'task' | 'datasetId' | 'model'> &
  Partial<Omit<TrainJobSpec, 'task' | 'datasetId' | 'model'>> & { kFolds?: number };

/** An MLflow column spec (`{"name":"text","type":"string"}`). */
export interface ColumnSpec {
  name?: string;
  type: 'string' | 'double' | 'float' | 'long' | 'integer' | 'boolean' | 'binary' | 'datetime';
  required?: boolean;
}

/** An MLflow tensor spec (`{"name":"front","type":"tensor","tensor-spec":{"dtype":"float32","shape":[-1,224,224,3]}}`). */
export interface TensorSpec {
  name?: string;
  type: 'tensor';
  'tensor-spec': { dtype: string; shape: number[] };
}

/**
 * An MLflow model signature ("Model Signature" in mlflow.org's docs). Loupe's inputs name the REST
 * columns a request carries, then the tensors the model takes from them.
 */
export interface ModelSignature {
  inputs: (ColumnSpec | TensorSpec)[];
  outputs?: (ColumnSpec | TensorSpec)[];
}
