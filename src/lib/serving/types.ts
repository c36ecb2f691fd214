import type { BackendName, LogSource, ModelVersionRow, TaskName } from '$lib/db/types';
import type { Prediction, ServingInput } from '$lib/tasks/types';

export type { Prediction };

export type { ImageInput, ImageType, ServingInput } from '$lib/tasks/types';


/**
 * A loaded model version that predicts: the task plug-in's model plus its pre- and post-processing.
 * The inference worker holds the real one; the page holds a proxy of the same interface
 * (`workerPredictorFactory`); tests use fakes.
 */
export interface Predictor {
  readonly task: TaskName;
  /** The backend the model runs on, logged with every prediction. */
  readonly backend: BackendName;
  /** Class names in output order, for classification models. */
  readonly labels?: readonly string[];
  /** One prediction per input, in order. */
  predict(inputs: ServingInput[]): Promise<Prediction[]>;
  /** Frees the model (tensors, GPU memory). Called once no request uses it any more. */
  dispose(): Promise<void>;
}

/**
 * Loads a registered version as a predictor. The studio's default runs it in the inference worker;
 * the worker itself asks the task plug-in (`src/lib/serving/loaders.ts`).
 */
export type PredictorFactory = (version: ModelVersionRow) => Promise<Predictor>;

/** A version loaded in the inference worker, known to the page by its key. */
export interface LoadedModel {
  key: string;
  task: TaskName;
  backend: BackendName;
  labels?: string[];
}

/**
 * The inference worker's model methods, as serving uses them (a comlink remote of the worker's
 * `InferenceApi`, which extends this, or the service itself in tests).
 */
export interface InferenceModelApi {
  /** Loads a registered version on the chosen backend (once per name and version; a failed load is forgotten). */
  loadModel(version: ModelVersionRow, backendChoice: string): Promise<LoadedModel>;
  /** One prediction per input; `ModelNotLoadedError` when the key is not loaded (e.g. after a restart). */
  predict(key: string, inputs: ServingInput[]): Promise<Prediction[]>;
  /** Frees a loaded version; unknown keys are ignored. */
  unloadModel(key: string): Promise<void>;
}

/** tfjs's memory in the inference worker: tensors alive, their bytes, models loaded. */
export interface InferenceMemory {
  numTensors: number;
  numBytes: number;
  models: number;
}

/**
 * Where the SDK sends each prediction to be logged (the `InferenceLogger`). The SDK answers once the
 * returned promise resolves, so a sink that makes rows durable first loses no answered prediction.
 */
export interface PredictionSink {
  record(entry: PredictionRecord): void | Promise<void>;
  /** A request that failed after reaching the model (monitoring counts these for the error rate). */
  recordFailure?(failure: PredictionFailure): void | Promise<void>;
}

/** A request that failed after reaching the model: counted in rollups (error rate), never logged as a row. */
export interface PredictionFailure {
  ts: number;
  model: string;
  version?: number;
  source: LogSource;
  /** The error's name (`WorkerCrashedError`, …). */
  error: string;
}

/** setTimeout/clearTimeout, injectable so tests drive the SDK's and the logger's timers. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface PredictionRecord {
  ts: number;
  model: string;
  version: number;
  task: TaskName;
  source: LogSource;
  input: ServingInput;
  prediction: Prediction;
  labels?: readonly string[];
  latencyMs: number;
  backend: BackendName;
  /** How many inputs the request carried (latency is the request's, shared evenly). */
  batchSize: number;
}

export { DEFAULT_LOG_RETENTION, DEFAULT_SERVING_LIMITS, DEFAULT_SERVING_SETTINGS } from '$lib/db/settings-shapes';
export type { LogRetention, ServingLimits, ServingSettings } from '$lib/db/settings-shapes';
