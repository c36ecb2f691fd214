import type { ErrorAnalysis } from './analysis-shapes';
import type { AlertMetric, InputStatName } from './monitoring-shapes';
import type { PipelineConfig, PipelineState, RunArtifacts, RunTrigger, StepRecord } from './pipeline-shapes';
import type { GateRule, InitialWeights, Lineage, MetricCheck, TrainedOn } from './registry-shapes';
import type { SweepDefinition, SweepRegistration, SweepTrial } from './sweep-shapes';

/**
 * Row types of Loupe's IndexedDB tables. Only the fields named in the schema strings of `schema.ts`
 * are indexed; everything else is stored as-is, so adding an unindexed field needs no schema version.
 */

import type { BackendName, ModelSignature, RunParams, Split, TaskName } from './specs';

export type { BackendName, Split, TaskName } from './specs';

export interface DatasetRow {
  /** Content hash over (sample hashes, labels, split assignment): the dataset version. */
  id: string;
  name: string;
  task: TaskName;
  createdAt: number;
  parentId?: string;
  sampleCount: number;
  synthetic?: boolean;
  /** Items skipped at import, each with its reason (see the Datasets issue). */
  report?: { item: string; reason: string }[];
  /** Class names, in output order (classification tasks). */
  labels?: string[];
  /** Samples per split. */
  splits?: Partial<Record<Split, number>>;
  /** Seed of the split assignment (or of the subset draw). */
  seed?: number;
  /** How the version came about. */
  origin?: 'import' | 'addition' | 'subset' | 'demo';
  description?: string;
  /** Key of a built-in demo dataset (`coins`, `cars`, `tweets`); see src/lib/datasets/demo. */
  demo?: string;
  /** The task's label preset the data was imported under (`car-damage` for image classification). */
  preset?: string;
  /** For `origin: 'subset'`: how it was drawn from its parent. */
  subset?: { trainSize: number; evalSize: number; seed: number; evalFrom: Split };
}

export interface SampleRow {
  id: string;
  datasetId: string;
  split: Split;
  fold?: number;
  label: string | number;
  hash: string;
  path: string;
  source?: string;
  text?: string;
  height?: number;
  width?: number;
  bytes?: number;
  /** Images; coin-year samples carry two (front, back). */
  blobs?: Blob[];
  /** Path in the upload of each blob (front, back for coins). */
  paths?: string[];
  /** Stored size of each blob. */
  sizes?: { width: number; height: number }[];
  /** Size of each original file before resizing. */
  originalSizes?: { width: number; height: number; bytes: number }[];
  /** The original files, when the import kept them beside resized blobs. */
  originals?: Blob[];
}

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface RunRow {
  id: string;
  name: string;
  task: TaskName;
  status: RunStatus;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  params: RunParams;
  seed: number;
  backend?: BackendName;
  adapter?: string;
  datasetVersion: string;
  metrics?: Record<string, number>;
  failureReason?: string;
  /** Backends the run moved off after losing their device, in order. */
  fallbacks?: { from: BackendName; to: BackendName; at: number }[];
  /** An interrupted run (tab closed mid-training) that can continue from its last checkpoint. */
  resumable?: boolean;
  /** Time spent training in the run's earlier sessions (a resumed run's closed-tab gap is not counted). */
  trainingMs?: number;
  /** When the current (or last) training session began: `startedAt` for a run that never resumed. */
  sessionStartedAt?: number;
  /** What the model was trained and validated on, for the Predict page's "outside training" note. */
  trainedOn?: TrainedOn;
  appVersion: string;
  gitCommit?: string;
  /** Error analysis on the validation split at the end of the run (see analysis-shapes.ts). */
  analysis?: ErrorAnalysis;
  /** K-fold and sweeps group child runs under a parent. */
  parentId?: string;
  /** Where the backbone's first weights came from (the params' `init`, resolved): lineage of its versions. */
  initialWeights?: InitialWeights;
}

export interface MetricPointRow {
  id?: number;
  runId: string;
  step: number;
  epoch?: number;
  name: string;
  value: number;
  ts: number;
}

export interface CheckpointRow {
  id: string;
  runId: string;
  epoch: number;
  createdAt: number;
  /** tfjs artifacts: model.json text and one blob per weight shard (tensorflow/tfjs#7702). */
  modelJson: string;
  shards: Blob[];
  optimizerShards?: Blob[];
  rngState?: number[];
}

export type ModelVersionStatus = 'candidate' | 'production' | 'archived' | 'rejected';

export interface ModelVersionRow {
  id: string;
  name: string;
  version: number;
  status: ModelVersionStatus;
  createdAt: number;
  runId?: string;
  metrics: Record<string, number>;
  signature?: ModelSignature;
  exampleInput?: unknown;
  modelJson?: string;
  shards?: Blob[];
  card?: string;
  lineage?: Lineage;
  tags?: Record<string, string>;
  rejectionReason?: string;
  /** When the status last changed (promotion, rejection, rollback, archive). */
  statusChangedAt?: number;
  /** Metrics measured by the promotion gate, per evaluation dataset version (a cache for later gates). */
  evaluations?: Record<string, Record<string, number>>;
  /** Set on versions imported from a bundle: where they came from. */
  importedFrom?: { name: string; version: number; bundleSha256: string; importedAt: number };
}

export interface AliasRow {
  name: string;
  alias: string;
  version: number;
  updatedAt: number;
}

/** What an entry of the registry's audit trail records (see src/lib/registry). */
export type GateDecisionKind = 'register' | 'gate' | 'rollback' | 'archive' | 'alias';
export type GateOutcome = 'registered' | 'promoted' | 'rejected' | 'failed' | 'rolled-back' | 'archived' | 'alias-set' | 'alias-removed';

/**
 * One entry of a model's audit trail: promotion-gate decisions (both metric sets, the evaluation data
 * version, the rule) and every other change of statuses or aliases. Never updated or deleted.
 */
export interface GateDecisionRow {
  id: string;
  /** The model's name. */
  name: string;
  ts: number;
  kind: GateDecisionKind;
  outcome: GateOutcome;
  trigger: 'manual' | 'pipeline';
  /** The version the entry is about (the challenger of a gate, the target of a rollback). */
  version: number;
  /** Production before and after the entry (undefined: none). */
  productionBefore?: number;
  productionAfter?: number;
  evalDataVersion?: string;
  /** How the metrics were obtained (the evaluator's label). */
  evaluator?: string;
  rule?: GateRule;
  candidateMetrics?: Record<string, number>;
  championMetrics?: Record<string, number>;
  checks?: MetricCheck[];
  alias?: string;
  reason: string;
}

export type LogSource = 'ui' | 'sdk' | 'rest' | 'pipeline';

export interface InferenceLogRow {
  id?: number;
  ts: number;
  model: string;
  version: number;
  /** The model's task (rows written before serving existed lack it). */
  task?: TaskName;
  source: LogSource;
  /** Text, or images: their SHA-256 (`front+back` for pairs) and total size, and the blobs when retention keeps them. */
  input: { text?: string; hash?: string; bytes?: number; images?: Blob[] };
  output: unknown;
  /** Class names of a classifier's output, in order (for feedback and exports). */
  labels?: string[];
  score?: number;
  /** Latency of the request that carried this input. */
  latencyMs: number;
  /** How many inputs that request carried. */
  batchSize?: number;
  backend: BackendName;
  feedback?: string | number;
  feedbackAt?: number;
  /** Simple statistics of the input for drift (text length, OOV rate, image brightness and size); see monitoring. */
  stats?: Partial<Record<InputStatName, number>>;
}

/** A model's retraining pipeline (see src/lib/pipelines). Rows written before `task`/`state` existed get defaults on read. */
export interface PipelineRow {
  id: string;
  /** The registry model it retrains (one run per model at a time). */
  model: string;
  task: TaskName;
  name: string;
  config: PipelineConfig;
  paused: boolean;
  createdAt: number;
  updatedAt?: number;
  state?: PipelineState;
}

export type PipelineRunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';

/** One execution of a pipeline, with a record per step; queued and skipped triggers are rows too. */
export interface PipelineRunRow {
  id: string;
  pipelineId: string;
  model: string;
  status: PipelineRunStatus;
  trigger: RunTrigger;
  /** When it was requested (queued rows wait from here). */
  queuedAt: number;
  /** When it started running (equal to `queuedAt` until then, so history sorts by it). */
  startedAt: number;
  endedAt?: number;
  /** Data arriving up to this time belongs to this run (fixed when it starts, so a resumed run takes the same data). */
  dataUntil?: number;
  steps: StepRecord[];
  artifacts: RunArtifacts;
  /** Why it failed or was skipped; notes such as merged triggers. */
  error?: string;
  notes?: string[];
  /** How many times it resumed after an interruption. */
  resumes?: number;
  /** The tab (its random id) that executed it last. */
  runner?: string;
  /** For skipped rows: how many consecutive triggers were skipped for the same reason. */
  repeats?: number;
}

export interface AlertRow {
  id: string;
  rule: string;
  state: 'pending' | 'firing' | 'resolved';
  since: number;
  firedAt?: number;
  resolvedAt?: number;
  labels?: Record<string, string>;
  summary?: string;
  /** The metric's value when the alert last changed state. */
  value?: number;
}

export interface SettingRow {
  key: string;
  value: unknown;
}

/**
 * One model's inference log aggregated per minute, kept current as rows are written (monitoring).
 * Every distribution counts into the fixed bins of `src/lib/monitoring/bins.ts`, so minutes add up.
 */
export interface RollupRow {
  /** The model's name; hourly rollups use `hourKey(model)` (see monitoring/rollups.ts). */
  model: string;
  /** Start of the minute (or of the hour, for hourly rollups), epoch ms. */
  minute: number;
  /** 60 for hourly rollups; minute rollups leave it out. */
  span?: 60;
  task?: TaskName;
  /** Predictions logged in the minute. */
  count: number;
  /** Requests that failed after reaching the model (load or predict errors). */
  errors: number;
  /** Predictions per version that served them (keys are version numbers). */
  versions: Record<string, number>;
  /** Latency of each prediction's request: sum in ms and counts per `LATENCY_EDGES_MS` bin. */
  latency: { sum: number; bins: number[] };
  /** Classifier confidence: sum, count and counts per `SCORE_EDGES` bin. */
  score: { sum: number; count: number; bins: number[] };
  /** Predictions per class label, or per decade of a regression value (`"1850"`). */
  outputs: Record<string, number>;
  /** Counts per bin of each input statistic (see `INPUT_STATS`). */
  inputs: Partial<Record<InputStatName, number[]>>;
  /** Feedback-labelled predictions: how many, how many were right (classes), summed |error| (regression). */
  feedback: { count: number; correct: number; absError: number };
}

export type AlertComparison = '>' | '>=' | '<' | '<=';

/**
 * A monitoring alert rule, shaped like a Prometheus alerting rule: the condition (`metric comparison
 * threshold` over the last `windowMinutes`) must hold for `forMinutes` (pending) before it fires.
 * Firing instances are recorded in `alerts`; `action: 'retrain'` asks the Pipelines side to retrain.
 */
export interface AlertRuleRow {
  id: string;
  model: string;
  /** The alert's name (Prometheus `alert`). */
  name: string;
  metric: AlertMetric;
  comparison: AlertComparison;
  threshold: number;
  windowMinutes: number;
  forMinutes: number;
  severity: 'warning' | 'critical';
  action: 'notify' | 'retrain';
  enabled: boolean;
  createdAt: number;
}

/** One result of the periodic evaluation of a model on a labelled dataset version (monitoring). */
export interface EvalPointRow {
  id?: number;
  model: string;
  ts: number;
  version: number;
  datasetId: string;
  /** Metrics without the `val_` prefix (accuracy, macro_f1, mae, …); empty when the evaluation failed. */
  metrics: Record<string, number>;
  /** Why the evaluation failed, when it did. */
  error?: string;
}

/** A hyper-parameter sweep (src/lib/sweeps); its trials are runs with `parentId` = the sweep's id. */
export interface SweepRow {
  id: string;
  name: string;
  task: TaskName;
  /** The dataset version every trial trains and validates on. */
  datasetId: string;
  status: RunStatus;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  /** The definition as the user wrote it (YAML or JSON), and as validated (Weights & Biases' sweep schema). */
  source: string;
  definition: SweepDefinition;
  /** Every trial proposed so far, in order; a resumed sweep continues after the last finished one. */
  trials: SweepTrial[];
  failureReason?: string;
  /** The last "register best": the version it made and what the promotion gate decided. */
  registered?: SweepRegistration;
}

/** A cached text embedding, keyed by the encoder's identity and the text's hash. */
export interface EmbeddingRow {
  /** `modelKey` of the encoder (source, weights, pooling): another encoder never reuses a vector. */
  encoder: string;
  /** Hex SHA-256 of the preprocessed text. */
  hash: string;
  vector: Float32Array;
  createdAt: number;
}
