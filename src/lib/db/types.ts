/**
 * Row types of Loupe's IndexedDB tables. Only the fields named in the schema strings of `schema.ts`
 * are indexed; everything else is stored as-is, so adding an unindexed field needs no schema version.
 */

export type TaskName = 'coin-year' | 'car-damage' | 'sentiment';
export type Split = 'train' | 'val' | 'test' | 'unassigned';
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

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
  params: Record<string, unknown>;
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
  appVersion: string;
  gitCommit?: string;
  /** Error analysis on the validation split at the end of the run (see training/analysis.ts). */
  analysis?: import('$lib/training/analysis').ErrorAnalysis;
  /** K-fold and sweeps group child runs under a parent. */
  parentId?: string;
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
  signature?: unknown;
  exampleInput?: unknown;
  modelJson?: string;
  shards?: Blob[];
  card?: string;
  lineage?: Record<string, unknown>;
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
  rule?: import('$lib/registry/types').GateRule;
  candidateMetrics?: Record<string, number>;
  championMetrics?: Record<string, number>;
  checks?: import('$lib/registry/types').MetricCheck[];
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
}

export interface PipelineRow {
  id: string;
  model: string;
  name: string;
  config: Record<string, unknown>;
  paused: boolean;
  createdAt: number;
}

export interface PipelineRunRow {
  id: string;
  pipelineId: string;
  status: RunStatus;
  startedAt: number;
  endedAt?: number;
  steps: { name: string; status: RunStatus; startedAt?: number; endedAt?: number; log?: string[] }[];
  artifacts?: Record<string, string>;
}

export interface AlertRow {
  id: string;
  rule: string;
  state: 'pending' | 'firing' | 'resolved';
  since: number;
  firedAt?: number;
  labels?: Record<string, string>;
  summary?: string;
}

export interface SettingRow {
  key: string;
  value: unknown;
}

/** One model's inference log aggregated per minute, kept current as rows are written (monitoring). */
export interface RollupRow {
  model: string;
  /** Start of the minute, epoch ms. */
  minute: number;
}

/** A monitoring alert rule; firing instances are recorded in `alerts`. */
export interface AlertRuleRow {
  id: string;
  model: string;
}

/** One result of the periodic evaluation of a model on a labelled dataset version (monitoring). */
export interface EvalPointRow {
  id?: number;
  model: string;
  ts: number;
}

/** A hyper-parameter sweep; its trials are runs with `parentId` = the sweep's id. */
export interface SweepRow {
  id: string;
  status: RunStatus;
  createdAt: number;
}

/** A cached text embedding, keyed by the encoder's identity and the text's hash. */
export interface EmbeddingRow {
  encoder: string;
  hash: string;
}
