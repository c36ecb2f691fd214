import type { LoupeDb } from '$lib/db/db';
import type { GateDecisionRow, ModelVersionRow } from '$lib/db/types';
import { createSubset } from '$lib/datasets/store';
import { DEFAULT_SUBSET, type SubsetOptions } from '$lib/datasets/splits';
import { PromotionRejected } from '$lib/registry/errors';
import { ModelRegistry } from '$lib/registry/registry';
import type { GateEvaluator } from '$lib/registry/types';
import { loadTrainable } from '$lib/tasks/loaded';
import type { ModelSpec } from '$lib/db/specs';
import { evaluateHeldOut } from '$lib/training/evaluate';
import { runTrainJob, type TrainJobContext } from '$lib/training/job';
import { saveToBlobs } from '$models/io';
import { registerTransformerBaseline, TextWorkflowError, textDataset, type RegisteredOutcome } from './baseline';

/**
 * The text quick-train, in the trainer worker: subset → train (or measure the baseline) →
 * register → promotion gate against production.
 */

/** The gate's evaluator inside the worker: load each version and measure it on the held-out split. */
export function heldOutEvaluator(db: LoupeDb): GateEvaluator {
  return async (version: ModelVersionRow, evalDataVersion: string) => {
    if (!version.modelJson || !version.shards) throw new TextWorkflowError(`${version.name} v${version.version} has no stored weights`);
    const trainable = await loadTrainable({ modelJson: version.modelJson, shards: version.shards });
    try {
      return await evaluateHeldOut(db, trainable, evalDataVersion);
    } finally {
      trainable.dispose();
    }
  };
}

export interface QuickTrainRequest {
  /** The text-classification dataset version to draw from (e.g. tweet_eval, or the demo tweets). */
  sourceDatasetId: string;
  /** Train size, eval size and seed of the random reproducible subset (1000 / 200 / 42 by default). */
  subset?: Partial<SubsetOptions>;
  model: ModelSpec;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Registry name; by default the dataset's preset (`sentiment`), else `text-classification`. */
  name?: string;
}

export interface QuickTrainOutcome extends RegisteredOutcome {
  /** The subset's dataset version (its `val` split is the gate's evaluation set). */
  datasetId: string;
  /** The promotion gate's decision against production. */
  decision: Pick<GateDecisionRow, 'outcome' | 'reason' | 'productionBefore' | 'productionAfter' | 'candidateMetrics' | 'championMetrics'>;
}

/**
 * The text quick-train: a random reproducible subset, a model trained (or, for the
 * transformer baseline, measured) on it, accuracy and macro-F1, registration, and the promotion gate
 * against production on the subset's evaluation split.
 */
export async function quickTrainText(db: LoupeDb, request: QuickTrainRequest, context: TrainJobContext): Promise<QuickTrainOutcome> {
  const source = await textDataset(db, request.sourceDatasetId);
  const subset = { ...DEFAULT_SUBSET, ...request.subset };
  const name = request.name ?? source.preset ?? source.task;
  context.onProgress?.({ kind: 'log', level: 'info', message: `drawing a subset: ${subset.trainSize} train, ${subset.evalSize} eval, seed ${subset.seed}` });
  const { dataset } = await createSubset(db, request.sourceDatasetId, subset);
  let registered: RegisteredOutcome;
  if (request.model.architecture === 'transformer') {
    registered = await registerTransformerBaseline(db, { datasetId: dataset.id, model: request.model.model, name }, context);
  } else {
    const result = await runTrainJob(
      db,
      {
        name: `${name} quick-train`,
        task: source.task,
        datasetId: dataset.id,
        model: request.model,
        epochs: request.epochs ?? 10,
        batchSize: request.batchSize ?? 32,
        optimizer: 'adam',
        learningRate: request.learningRate ?? 0.01,
        seed: subset.seed,
      },
      context,
    );
    try {
      const version = await new ModelRegistry(db).registerFromRun(result.runId, { name, weights: await saveToBlobs(result.trainable.model) });
      registered = { runId: result.runId, name, version: version.version, metrics: result.metrics };
    } finally {
      result.trainable.dispose();
    }
  }
  let decision: GateDecisionRow;
  try {
    decision = await new ModelRegistry(db).promote({
      name,
      version: registered.version,
      evalDataVersion: dataset.id,
      evaluate: heldOutEvaluator(db),
      evaluator: 'trainer worker, held-out split of the quick-train subset',
    });
  } catch (error) {
    // A rejection is an outcome of the quick-train, not a failure: the decision is in the audit trail.
    if (!(error instanceof PromotionRejected)) throw error;
    decision = error.decision;
  }
  const { outcome, reason, productionBefore, productionAfter, candidateMetrics, championMetrics } = decision;
  context.onProgress?.({ kind: 'log', level: outcome === 'promoted' ? 'info' : 'warn', message: reason });
  return { ...registered, datasetId: dataset.id, decision: { outcome, reason, productionBefore, productionAfter, candidateMetrics, championMetrics } };
}
