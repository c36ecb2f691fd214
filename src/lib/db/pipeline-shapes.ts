import type { TrainJobSpec } from './specs';

/**
 * Pipelines: a model's retraining recipe (take new data → validate → dataset version → train →
 * evaluate → register → promotion gate → deploy) and what starts it. Stored in `pipelines`; every
 * execution is a `pipelineRuns` row with one record per step. Defined here, at the bottom, and
 * re-exported by `$lib/pipelines/types`.
 */

/** The steps, in execution order. */
export const STEP_NAMES = ['collect', 'validate', 'dataset', 'train', 'evaluate', 'register', 'gate', 'deploy'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** What a step is; `train` is the only kind of its slot today, a later `sweep` kind plugs in beside it. */
export type StepKind = StepName;

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

/** How a schedule repeats: every N units, or a cron expression (5 or 6 fields, local time). */
export type Schedule =
  | { kind: 'none' }
  | { kind: 'interval'; every: number; unit: 'seconds' | 'minutes' | 'hours' | 'days' }
  | { kind: 'cron'; expression: string };

export interface TriggerConfig {
  schedule: Schedule;
  /** Start a run once at least this many new labelled samples (imports + feedback) arrived; 0 = off. */
  minNewSamples: number;
  /** Start a run when a monitoring alert rule with action `retrain` fires for this model. */
  onAlert: boolean;
}

/** The training recipe: a job spec without the dataset, which the pipeline supplies. */
export type TrainRecipe = Omit<TrainJobSpec, 'datasetId' | 'task' | 'fold' | 'name'>;

/**
 * The train slot: `kind` discriminates so other ways to produce a run (a hyper-parameter sweep that
 * keeps its best trial) can be added without touching the rest of the pipeline.
 */
export type TrainStepConfig = {
  kind: 'train';
  recipe: TrainRecipe;
  /**
   * Where each run's model starts: `recipe` (default) as the recipe says (its `init`, else scratch), or
   * `production` — a warm start from the model's production version (`init: version:<model>@<n>`), so
   * the run fine-tunes what is served on the new dataset version; as `recipe` while nothing is in
   * production. Image models only (a backbone carries the weights over).
   */
  from?: 'recipe' | 'production';
};

export interface PipelineConfig {
  /** Dataset version to start from; empty: the newest version of the task. */
  baseDatasetId?: string;
  /** Which optional steps run (train always does). */
  steps: { data: boolean; evaluate: boolean; register: boolean; gate: boolean; deploy: boolean };
  train: TrainStepConfig;
  triggers: TriggerConfig;
  /** A trigger while a run of this model is in progress: queue one more run, or skip it (recorded either way). */
  overlap: 'queue' | 'skip';
}

/** What the scheduler remembers between runs (kept in the pipeline row). */
export interface PipelineState {
  /** When the schedule last fired (or the pipeline was created): the next time is computed from it. */
  lastScheduledAt?: number;
  /** Data up to this time has been taken by a completed run. */
  watermark?: number;
  /** The dataset version the last completed run trained on: the next run's base. */
  datasetId?: string;
  /** Alert ids that already started a run (each alert starts at most one). */
  handledAlerts?: string[];
}

export type TriggerKind = 'manual' | 'schedule' | 'data' | 'alert' | 'background';

export interface RunTrigger {
  kind: TriggerKind;
  /** One line for the history, e.g. "every 5 minutes" or "alert HighLatency (a-12)". */
  detail: string;
  /** For alert triggers: the alert row's id. */
  alertId?: string;
}

export interface StepRecord {
  name: StepName;
  kind: StepKind;
  status: StepStatus;
  startedAt?: number;
  endedAt?: number;
  log: string[];
  /** What the step produced (plain JSON), read by later steps and on resume. */
  output?: Record<string, unknown>;
  error?: string;
  /** Counted progress of a long step (training epochs). */
  progress?: { label: string; done: number; total: number };
}

/** What a run produced, for the history table and links. */
export interface RunArtifacts {
  datasetVersion?: string;
  runId?: string;
  modelVersion?: number;
  gate?: 'promoted' | 'rejected' | 'failed';
  gateReason?: string;
  decisionId?: string;
  production?: number;
}
