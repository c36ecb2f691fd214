import type { LoupeDb } from '$lib/db/db';
import { heldOutSplitOf, type SplitNote } from '$lib/datasets/held-out';
import type { DatasetRow, ModelVersionRow, TaskName } from '$lib/db/types';
import { GateEvaluationError } from './errors';
import { heldOutMetrics } from './gate';
import type { GateEvaluator, ModelArtifacts } from './types';

/**
 * Where the gate's measurements and a run's saved model come from. The training side plugs its real
 * implementations in (`registerGateEvaluator`, `setRunModelSource`); until then the registry uses
 * the conservative fallbacks below and says so in the UI and the audit trail.
 */

export interface NamedEvaluator {
  /** Shown in the UI and stored with every decision. */
  label: string;
  /** True when it measures the weights now (rather than reading recorded metrics). */
  live: boolean;
  evaluate: GateEvaluator;
}

const evaluators = new Map<TaskName, NamedEvaluator>();

/**
 * Plugs in the evaluator of a task: it loads a version's weights and measures them on the held-out
 * split of a dataset version.
 * @example registerGateEvaluator('coin-year', { label: 'trainer worker (val split)', live: true, evaluate })
 */
export function registerGateEvaluator(task: TaskName, evaluator: NamedEvaluator): void {
  evaluators.set(task, evaluator);
}

/** The evaluator for a task: the registered one, else `RECORDED_METRICS`. */
export function gateEvaluatorFor(task: TaskName | undefined): NamedEvaluator {
  return (task && evaluators.get(task)) || RECORDED_METRICS;
}

/**
 * The evaluators a user may choose from, best first: the task's live one (when plugged in), then
 * recorded metrics — the only way to compare versions whose evaluation data is not in this browser
 * (imported bundles), and strict about using one dataset version.
 */
export function gateEvaluatorsFor(task: TaskName | undefined): NamedEvaluator[] {
  const live = task && evaluators.get(task);
  return live ? [live, RECORDED_METRICS] : [RECORDED_METRICS];
}

/**
 * Reads what was already measured instead of measuring again: metrics an earlier gate run stored for
 * this evaluation set, else the version's recorded held-out metrics when its own dataset version is
 * the evaluation set (same dataset version ⇒ same held-out split). Anything else cannot be compared
 * fairly, so it refuses rather than guess.
 */
export const recordedMetricsEvaluator: GateEvaluator = async (version, evalDataVersion) => {
  const cached = version.evaluations?.[evalDataVersion];
  if (cached) return cached;
  const own = version.lineage?.datasetVersion;
  if (own === evalDataVersion) {
    const metrics = heldOutMetrics(version.metrics);
    if (Object.keys(metrics).length) return metrics;
    throw new GateEvaluationError(`${version.name} v${version.version} has no recorded metrics to compare`);
  }
  throw new GateEvaluationError(
    `${version.name} v${version.version} was measured on dataset version ${own ?? '(unknown)'}, not ${evalDataVersion}; ` +
      'comparing it on that data needs a live evaluator for its task, which is not available in this build',
  );
};

export const RECORDED_METRICS: NamedEvaluator = {
  label: 'recorded held-out metrics (same dataset version)',
  live: false,
  evaluate: recordedMetricsEvaluator,
};

/**
 * The split a gate decision's figures were measured on: a live evaluator measures the evaluation set's
 * held-out split (test, else val; `heldOutSplitOf`); recorded metrics are each version's validation
 * figures or an earlier live measurement, so they name no one split (undefined, as without split counts).
 * @example gateMeasuredOn('measured in the trainer worker …', { splits: { test: 24 } }) // { split: 'test', samples: 24 }
 */
export function gateMeasuredOn(evaluator: string | undefined, evalSet: Pick<DatasetRow, 'splits'> | undefined): SplitNote | undefined {
  if (evaluator === undefined || evaluator === RECORDED_METRICS.label) return undefined;
  return heldOutSplitOf(evalSet);
}

/** The evaluation dataset versions the gate can use for a pair of versions without a live evaluator. */
export function recordedEvalSets(version: Pick<ModelVersionRow, 'lineage' | 'evaluations'>): string[] {
  const sets = new Set(Object.keys(version.evaluations ?? {}));
  if (version.lineage?.datasetVersion !== undefined) sets.add(version.lineage.datasetVersion);
  return [...sets];
}

/** Finds the saved model (tfjs model.json + shards) of a completed run. */
export type RunModelSource = (db: LoupeDb, runId: string) => Promise<ModelArtifacts | undefined>;

/**
 * Default source: the run's latest checkpoint, when it holds a complete tfjs model (model.json with
 * its topology, as `models/io.ts` saves it). Weights-only training checkpoints are not models.
 */
export const checkpointModelSource: RunModelSource = async (db, runId) => {
  const rows = await db.checkpoints.where('[runId+epoch]').between([runId, -Infinity], [runId, Infinity]).toArray();
  const latest = rows.at(-1);
  if (!latest) return undefined;
  try {
    const json = JSON.parse(latest.modelJson) as { modelTopology?: unknown };
    if (!json.modelTopology) return undefined;
  } catch {
    return undefined;
  }
  return { modelJson: latest.modelJson, shards: latest.shards };
};

let runModelSource: RunModelSource = checkpointModelSource;

/** Plugs in where completed runs keep their final model. */
export function setRunModelSource(source: RunModelSource): void {
  runModelSource = source;
}

export function findRunModel(db: LoupeDb, runId: string): Promise<ModelArtifacts | undefined> {
  return runModelSource(db, runId);
}
