import type { BackendName } from '$lib/db/types';
import type { LoupeDb } from '$lib/db/db';
import { resumeTrainJob, runTrainJob, type TrainJobResult } from '$lib/training/job';
import type { TrialHooks, TrialRunner } from './controller';

/**
 * Trains trials in this thread with `runTrainJob`: for Node tests, and for code that already runs inside
 * the trainer worker (the backend must be active). The page uses `workerTrialRunner` instead.
 * @example await runSweep(db, definition, { datasetId, runner: inProcessRunner(db, { backend: 'cpu', adapter: 'cpu' }) });
 */
export function inProcessRunner(db: LoupeDb, backend: { backend: BackendName; adapter: string }): TrialRunner {
  const running = new Map<string, AbortController>();
  const run = async (hooks: TrialHooks, job: (context: Parameters<typeof runTrainJob>[2]) => Promise<TrainJobResult>) => {
    const controller = new AbortController();
    let runId: string | undefined;
    try {
      const result = await job({
        backend,
        signal: controller.signal,
        onProgress: hooks.onProgress,
        shouldStop: hooks.shouldStop,
        onRunCreated: (id) => {
          runId = id;
          running.set(id, controller);
          hooks.onRunCreated(id);
        },
      });
      result.trainable.dispose();
      return { runId: result.runId, metrics: result.metrics };
    } finally {
      if (runId) running.delete(runId);
    }
  };
  return {
    start: (spec, sweepId, hooks) => run(hooks, (context) => runTrainJob(db, spec, { ...context, parentId: sweepId })),
    resume: (runId, hooks) => run(hooks, (context) => resumeTrainJob(db, runId, context)),
    cancel: async (runId) => running.get(runId)?.abort(),
  };
}
