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
}

export interface AliasRow {
  name: string;
  alias: string;
  version: number;
  updatedAt: number;
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
