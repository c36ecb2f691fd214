import type { LoupeDb } from '$lib/db/db';
import type { TaskName } from '$lib/db/types';
import type { NamedEvaluator } from '$lib/registry/evaluators';
import type { ModelRegistry } from '$lib/registry/registry';
import type { ModelArtifacts } from '$lib/registry/types';
import type { TrainJobSpec } from '$lib/training/job';
import type { ProgressEvent } from '$lib/progress';

/** What a training call reports back while it runs. */
export interface TrainHooks {
  /** The run row exists: the pipeline records its id at once, so a reload can resume it. */
  onRunCreated(runId: string): void;
  onProgress(event: ProgressEvent): void;
  signal?: AbortSignal;
}

/**
 * Everything the pipeline's steps use from the rest of the studio. The page plugs in the trainer
 * worker, the registry, the task's gate evaluator and the serving SDK (see `studio.ts`); Node tests plug
 * in the same modules running in-process on the cpu backend.
 */
export interface PipelineServices {
  db: LoupeDb;
  registry: ModelRegistry;
  /** Trains a job and records it as a run (`runTrainJob` in the trainer worker). */
  train(spec: TrainJobSpec, hooks: TrainHooks): Promise<{ runId: string; metrics: Record<string, number> }>;
  /** Continues an interrupted run from its last checkpoint (`resumeTrainJob`). */
  resume(runId: string, hooks: TrainHooks): Promise<{ runId: string; metrics: Record<string, number> }>;
  /** Held-out metrics (test split, else val) of saved weights on a dataset version, without the `val_` prefix. */
  evaluate(weights: ModelArtifacts & { name: string }, datasetId: string): Promise<Record<string, number>>;
  /** The saved final model of a completed run. */
  runModel(runId: string): Promise<ModelArtifacts | undefined>;
  /** How the promotion gate measures champion and challenger for a task. */
  gateEvaluator(task: TaskName): NamedEvaluator;
  /** Loads the model's production version where predictions are served; returns a note for the log. */
  deploy(model: string, version: number): Promise<string>;
  now(): number;
}
