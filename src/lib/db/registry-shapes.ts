import type { BackendName, RunParams, TaskName } from './specs';

/**
 * Persisted shapes of the model registry: the promotion gate's rule and verdicts (stored in settings
 * and in `gateDecisions`) and a version's lineage (`modelVersions.lineage`, a bundle's `lineage.json`).
 * Defined here, at the bottom, and re-exported by `$lib/registry/types`.
 */

/**
 * The promotion gate's rule for one metric, after MLflow's `MetricThreshold`
 * (`mlflow.models.MetricThreshold`): every criterion that is set must hold. With lower-is-better
 * metrics each comparison is mirrored.
 */
export interface MetricThreshold {
  greaterIsBetter: boolean;
  /** Absolute bar for the candidate: `≥ threshold` (greater is better) or `≤ threshold`. Applies with or without a champion. */
  threshold?: number;
  /** The candidate must beat the champion by at least this much (`c ≥ b + Δ`, mirrored: `c ≤ b − Δ`). */
  minAbsoluteChange?: number;
  /** …and by at least this fraction of the champion's value (`(c − b)/|b| ≥ r`, mirrored). */
  minRelativeChange?: number;
  /** Guard metrics (Loupe's addition): the candidate may be worse than the champion by at most this much. */
  tolerance?: number;
}

/**
 * What the gate requires of a challenger: the task's primary metric plus guard metrics, each with its
 * thresholds. The primary metric must also be strictly better than the champion's, and needs a
 * `threshold` so that the first version (no champion) faces an absolute bar.
 */
export interface GateRule {
  primary: string;
  metrics: Record<string, MetricThreshold>;
}

/** One metric's verdict in a gate run. */
export interface MetricCheck {
  metric: string;
  role: 'primary' | 'guard';
  greaterIsBetter: boolean;
  candidate?: number;
  champion?: number;
  passed: boolean;
  /** Why it failed, one sentence per failed criterion (empty when it passed). */
  failures: string[];
}

/**
 * What a model was trained and validated on, recorded at the end of its run: the range of the training
 * targets (regression), and the top-class score that 90 % of validation predictions reached (classification).
 * @example const trainedOn: TrainedOn = { targetRange: { min: 1850, max: 2020 } };
 */
export interface TrainedOn {
  targetRange?: { min: number; max: number };
  /** 10th percentile of the validation split's top-class scores: a served score below it is unusually unsure. */
  lowScore?: number;
}

/**
 * Where a version came from: enough to reproduce it. Every field is optional because versions
 * registered by hand, imported from bundles or stored by older releases may lack any of them.
 * @example const lineage: Lineage = { runId: 'r7', task: 'coin-year', datasetVersion: 'abc123', seed: 42, backend: 'wasm' };
 */
export interface Lineage {
  runId?: string;
  task?: TaskName;
  datasetVersion?: string;
  /** The dataset version's name when it was registered (filled from `datasetVersion`). */
  datasetName?: string;
  /** The run's params (its training job spec), copied from the run. */
  params?: RunParams;
  seed?: number;
  backend?: BackendName;
  adapter?: string;
  /** Where the backbone's first weights came from, when not from scratch. */
  initialWeights?: InitialWeights;
  /** Loupe's version and commit that trained the model. */
  appVersion?: string;
  gitCommit?: string;
  /** The run's training target range and validation scores (older versions lack it). */
  trainedOn?: TrainedOn;
  /** Loupe's version and commit that registered it. */
  registeredWith?: { appVersion: string; gitCommit?: string };
  /** Set when the weights were trained outside Loupe from an exported job (`loupe export-job`) and imported back. */
  trainedBy?: ExternalTraining;
}

/**
 * Who trained imported weights: the engine and how it ran, as its metrics.json reported, and the hash of the
 * exported job it ran (`summary`: "trained by PyTorch DDP, 2 processes on cpu").
 */
export interface ExternalTraining {
  engine: 'pytorch-ddp';
  summary: string;
  jobHash: string;
  processes: number;
  device: string;
  backend?: string;
  torch?: string;
  mixedPrecision?: boolean;
  seconds?: number;
}

/**
 * Where a run's backbone started (its `init`, resolved): a hub checkpoint, a file, or a registered version.
 * `sha256` is of the file's bytes as loaded; `batchNormEpsilon` is set where the weights were trained with
 * another BatchNorm epsilon than torchvision's (timm's MobileNetV3), so a resumed run builds the same model.
 */
export type InitialWeights = (
  | { kind: 'hub'; id: string; host: string; file: string; revision: string; sha256: string; bytes: number; naming: 'torchvision' | 'timm' }
  | { kind: 'file'; name: string; sha256: string; bytes: number; naming: 'torchvision' | 'timm' }
  /** A warm start; `head` when the version's head was taken too (same task and classes). */
  | { kind: 'version'; name: string; version: number; id: string; head: boolean }
) & { batchNormEpsilon?: number };
