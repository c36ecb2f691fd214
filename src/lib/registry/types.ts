import type { BackendName, ModelVersionRow, TaskName } from '$lib/db/types';
import type { ModelSignature } from '$lib/db/specs';

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

/** The gate's verdict (pure; see `decide`). */
export interface GateVerdict {
  passed: boolean;
  checks: MetricCheck[];
  reason: string;
}

/**
 * Measures a version on an evaluation dataset version. The gate calls it for the champion and the
 * challenger in the same run, with the same `evalDataVersion`.
 * @example const evaluate: GateEvaluator = async (version, evalSet) => ({ mae: 11.8, rmse: 15.2 });
 */
export type GateEvaluator = (version: ModelVersionRow, evalDataVersion: string) => Promise<Record<string, number>>;

/** Runs `body` holding the exclusive lock `name` (Web Locks in browsers; injectable in tests). */
export type LockFn = <T>(name: string, body: () => Promise<T>) => Promise<T>;

export type { ColumnSpec, ModelSignature, TensorSpec } from '$lib/db/specs';

/** Where a version came from: enough to reproduce it. */
export interface Lineage {
  runId?: string;
  task?: TaskName;
  datasetVersion?: string;
  datasetName?: string;
  params?: Record<string, unknown>;
  seed?: number;
  backend?: BackendName;
  adapter?: string;
  /** Loupe's version and commit that trained the model. */
  appVersion?: string;
  gitCommit?: string;
  /** Loupe's version and commit that registered it. */
  registeredWith?: { appVersion: string; gitCommit?: string };
  [key: string]: unknown;
}

/** tfjs artifacts as the registry stores them: model.json text and one Blob per weight shard. */
export interface ModelArtifacts {
  modelJson: string;
  shards: Blob[];
}

/** What registering a version needs. */
export interface RegisterInput extends ModelArtifacts {
  name: string;
  metrics: Record<string, number>;
  signature?: ModelSignature;
  exampleInput?: unknown;
  lineage?: Lineage;
  /** Markdown; filled from the lineage and metrics when absent. */
  card?: string;
  tags?: Record<string, string>;
  trigger?: 'manual' | 'pipeline';
  /** Set when the version comes from a bundle. */
  importedFrom?: ModelVersionRow['importedFrom'];
}
