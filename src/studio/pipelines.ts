import * as Comlink from 'comlink';
import { getDb } from '$lib/db/db';
import type { ModelVersionRow } from '$lib/db/types';
import { findRunModel, gateEvaluatorFor } from '$lib/registry/evaluators';
import { ModelRegistry } from '$lib/registry/registry';
import { studioServing } from '$studio/serving';
import { getSetting } from '$lib/settings';
import { notify } from '$lib/ui/notifications.svelte';
import { workers } from '$lib/workers';
import type { ProgressEvent } from '$lib/progress';
import { listenForBackgroundWakeups, registerPeriodicSync } from '$lib/pipelines/background';
import { PipelineExecutor } from '$lib/pipelines/executor';
import { PipelineScheduler } from '$lib/pipelines/scheduler';
import type { PipelineServices, TrainHooks } from '$lib/pipelines/services';

/**
 * The studio tab's pipelines: steps run on the page's own workers (training and evaluation in the
 * trainer worker, the same client the Train page uses), the registry on the page's database, and
 * deployment through the tab's serving SDK, which loads the new production version in the inference
 * worker.
 */

/** Follows a trainer-worker job: proxies the callbacks, and cancels the job when the run is cancelled. */
async function followJob(hooks: TrainHooks, launch: (onProgress: (e: ProgressEvent) => void, onRunCreated: (id: string) => void) => Promise<{ runId: string; metrics: Record<string, number> }>) {
  let runId: string | undefined;
  const cancel = () => void (runId && workers().trainer.api().cancel(runId));
  hooks.signal?.addEventListener('abort', cancel, { once: true });
  try {
    return await launch(
      Comlink.proxy((event: ProgressEvent) => hooks.onProgress(event)),
      Comlink.proxy((created: string) => {
        runId = created;
        hooks.onRunCreated(created);
      }),
    );
  } finally {
    hooks.signal?.removeEventListener('abort', cancel);
  }
}

export function studioPipelineServices(): PipelineServices {
  const db = getDb();
  const backend = () => getSetting(db, 'backend');
  return {
    db,
    registry: new ModelRegistry(db),
    train: async (spec, hooks) => {
      const choice = await backend();
      return followJob(hooks, (onProgress, onRunCreated) => workers().trainer.api().train(spec, choice, onProgress, onRunCreated));
    },
    resume: async (runId, hooks) => {
      const choice = await backend();
      hooks.onRunCreated(runId);
      return followJob(hooks, (onProgress) => workers().trainer.api().resume(runId, choice, onProgress));
    },
    evaluate: async (weights, datasetId) => {
      // The trainer worker measures registered versions; it reads only the name and the weights.
      const version = { id: `${weights.name}@run`, version: 0, status: 'candidate', createdAt: 0, metrics: {}, ...weights } satisfies ModelVersionRow;
      return workers().trainer.api().evaluateVersion(version, datasetId, await backend());
    },
    runModel: (runId) => findRunModel(db, runId),
    gateEvaluator: (task) => gateEvaluatorFor(task),
    deploy: async (model, version) => {
      const loaded = await studioServing().warm(model);
      return loaded === version
        ? `${model} v${loaded} loaded in the inference worker: predictions now come from it`
        : `${model} production is v${loaded} (moved again since v${version}); loaded it`;
    },
    now: () => Date.now(),
  };
}

let started: { executor: PipelineExecutor; scheduler: PipelineScheduler } | undefined;

/** The tab's executor and scheduler (created on first use). */
export function studioPipelines(): { executor: PipelineExecutor; scheduler: PipelineScheduler } {
  if (started) return started;
  const executor = new PipelineExecutor(studioPipelineServices());
  const scheduler = new PipelineScheduler(getDb(), executor, {
    onTriggered: (pipeline, trigger, outcome) => {
      if (outcome.status === 'merged' || (outcome.status === 'skipped' && outcome.repeat)) return; // said once already
      notify(outcome.status === 'started' ? 'info' : 'warn', `${pipeline.name} — ${trigger.kind}: ${outcome.message}`);
    },
  });
  started = { executor, scheduler };
  return started;
}

/**
 * Starts this tab's part in the pipelines: joins the scheduler election (one tab evaluates triggers;
 * another takes over when it closes), wakes it on Periodic Background Sync, and registers that sync
 * where the installed app may use it. main.ts calls it once.
 */
export function startPipelines(): void {
  const { scheduler } = studioPipelines();
  document.documentElement.dataset.loupeTab = scheduler.executor.tabId;
  scheduler.start();
  // Only the elected tab evaluates triggers, also when the service worker wakes every tab.
  listenForBackgroundWakeups(() => void (scheduler.leader && scheduler.tick()));
  void registerPeriodicSync(getDb()).catch((error: unknown) => console.warn('pipelines: periodic background sync is unavailable', error));
}
