import type { LoupeDb } from '$lib/db/db';
import { ModelRegistry } from '$lib/registry/registry';
import type { ModelSpec } from '$lib/db/specs';
import { SENTIMENT } from '$lib/tasks/sentiment';
import { transformerClassifier } from '$lib/tasks/sentiment/encoder';
import { describeSource, type ModelRef } from '$lib/text/encoder/source';
import { evaluateHeldOut, valPrefixed } from '$lib/training/evaluate';
import type { TrainJobContext } from '$lib/training/job';
import { RunTracker } from '$lib/training/run-tracker';
import { saveToBlobs } from '$models/io';

/**
 * Registering the transformers.js sentiment baseline, in the trainer worker: measured as-is on a
 * dataset's held-out split, recorded as a run and registered as a version.
 */

export class SentimentWorkflowError extends Error {
  override name = 'SentimentWorkflowError';
}

export interface BaselineRequest {
  /** Dataset version whose held-out split (test, else val) measures the baseline. */
  datasetId: string;
  model: ModelRef;
  /** Registry name; `sentiment` by default. */
  name?: string;
}

export interface RegisteredOutcome {
  runId: string;
  version: number;
  metrics: Record<string, number>;
}

/** A sentiment dataset version, or a `SentimentWorkflowError` that says why not. */
export async function sentimentDataset(db: LoupeDb, datasetId: string) {
  const dataset = await db.datasets.get(datasetId);
  if (!dataset) throw new SentimentWorkflowError(`dataset version ${datasetId} does not exist`);
  if (dataset.task !== SENTIMENT.name) throw new SentimentWorkflowError(`dataset "${dataset.name}" is for ${dataset.task}, not ${SENTIMENT.name}`);
  return dataset;
}

/**
 * Measures the transformers.js classifier as-is on a dataset's held-out split and registers it as a
 * version (a run records the measurement, so the version has lineage like a trained one).
 * @example const { version, metrics } = await registerTransformerBaseline(db, { datasetId, model }, { backend, onProgress });
 */
export async function registerTransformerBaseline(db: LoupeDb, request: BaselineRequest, context: TrainJobContext): Promise<RegisteredOutcome> {
  const dataset = await sentimentDataset(db, request.datasetId);
  const labels = dataset.labels ?? [...(SENTIMENT.presets[0]?.labels ?? [])];
  const spec: ModelSpec = { architecture: 'transformer', model: request.model };
  const tracker = await RunTracker.create(db, {
    name: `sentiment baseline · ${describeSource(request.model)}`,
    task: 'sentiment',
    params: { task: 'sentiment', datasetId: dataset.id, model: spec },
    seed: 0,
    datasetVersion: dataset.id,
  });
  context.onRunCreated?.(tracker.id);
  const trainable = transformerClassifier(request.model, labels, SENTIMENT);
  try {
    await tracker.start(context.backend.backend, context.backend.adapter);
    context.onProgress?.({ kind: 'log', level: 'info', message: `measuring ${describeSource(request.model)} on "${dataset.name}"` });
    const metrics = valPrefixed(await evaluateHeldOut(db, trainable, dataset.id));
    await tracker.complete(metrics);
    const version = await new ModelRegistry(db).registerFromRun(tracker.id, {
      name: request.name ?? 'sentiment',
      weights: await saveToBlobs(trainable.model),
      tags: { architecture: 'transformer' },
    });
    context.onProgress?.({ kind: 'done', summary: metrics });
    return { runId: tracker.id, version: version.version, metrics };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await tracker.fail(reason);
    context.onProgress?.({ kind: 'failed', reason });
    throw error;
  } finally {
    trainable.dispose();
  }
}
