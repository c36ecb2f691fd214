import type { Lineage, MetricCheck } from '$lib/db/registry-shapes';
import type { ModelSignature } from '$lib/db/specs';
import type { ModelVersionRow } from '$lib/db/types';

export type { GateRule, InitialWeights, Lineage, MetricCheck, MetricThreshold } from '$lib/db/registry-shapes';

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
