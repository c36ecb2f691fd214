import type { LoupeDb } from '$lib/db/db';
import { ModelRegistry } from '$lib/registry/registry';
import type { ModelSpec } from '$lib/db/specs';
import { TEXT_CLASSIFICATION } from '$lib/tasks/text-classification';
import { transformerClassifier } from '$lib/tasks/text-classification/encoder';
import { describeSource, type ModelRef } from '$lib/text/encoder/source';
import { evaluateHeldOut, valPrefixed } from '$lib/training/evaluate';
import type { TrainJobContext } from '$lib/training/job';
import { RunTracker } from '$lib/training/run-tracker';
import { saveToBlobs } from '$models/io';

/**
 * Registering a transformers.js text classifier as a baseline (the sentiment RoBERTa by default), in the
 * trainer worker: measured as-is on a dataset's held-out split, recorded as a run and registered as a version.
 */

export class TextWorkflowError extends Error {
  override name = 'TextWorkflowError';
}

export interface BaselineRequest {
  /** Dataset version whose held-out split (test, else val) measures the baseline. */
  datasetId: string;
  model: ModelRef;
  /** Registry name; by default the dataset's preset (`sentiment`), else `text-classification`. */
  name?: string;
}

export interface RegisteredOutcome {
  runId: string;
  /** The registry name it went under (the dataset's preset, `sentiment`, unless named). */
  name: string;
  version: number;
  metrics: Record<string, number>;
}

/** A text-classification dataset version, or a `TextWorkflowError` that says why not. */
export async function textDataset(db: LoupeDb, datasetId: string) {
  const dataset = await db.datasets.get(datasetId);
  if (!dataset) throw new TextWorkflowError(`dataset version ${datasetId} does not exist`);
  if (dataset.task !== TEXT_CLASSIFICATION.name) throw new TextWorkflowError(`dataset "${dataset.name}" is for ${dataset.task}, not ${TEXT_CLASSIFICATION.name}`);
  return dataset;
}

/**
 * Measures the transformers.js classifier as-is on a dataset's held-out split and registers it as a
 * version (a run records the measurement, so the version has lineage like a trained one).
 * @example const { version, metrics } = await registerTransformerBaseline(db, { datasetId, model }, { backend, onProgress });
 */
export async function registerTransformerBaseline(db: LoupeDb, request: BaselineRequest, context: TrainJobContext): Promise<RegisteredOutcome> {
  const dataset = await textDataset(db, request.datasetId);
  const labels = dataset.labels ?? [...(TEXT_CLASSIFICATION.presets[0]?.labels ?? [])];
  const spec: ModelSpec = { architecture: 'transformer', model: request.model };
  const tracker = await RunTracker.create(db, {
    name: `baseline · ${describeSource(request.model)}`,
    task: TEXT_CLASSIFICATION.name,
    params: { task: TEXT_CLASSIFICATION.name, datasetId: dataset.id, model: spec },
    seed: 0,
    datasetVersion: dataset.id,
  });
  context.onRunCreated?.(tracker.id);
  const trainable = transformerClassifier(request.model, labels, TEXT_CLASSIFICATION);
  try {
    await tracker.start(context.backend.backend, context.backend.adapter);
    context.onProgress?.({ kind: 'log', level: 'info', message: `measuring ${describeSource(request.model)} on "${dataset.name}"` });
    const metrics = valPrefixed(await evaluateHeldOut(db, trainable, dataset.id));
    await tracker.complete(metrics);
    const version = await new ModelRegistry(db).registerFromRun(tracker.id, {
      // Unnamed: the registry names it after the dataset's preset, else the task.
      ...(request.name ? { name: request.name } : {}),
      weights: await saveToBlobs(trainable.model),
      tags: { architecture: 'transformer' },
    });
    context.onProgress?.({ kind: 'done', summary: metrics });
    return { runId: tracker.id, name: version.name, version: version.version, metrics };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await tracker.fail(reason);
    context.onProgress?.({ kind: 'failed', reason });
    throw error;
  } finally {
    trainable.dispose();
  }
}
