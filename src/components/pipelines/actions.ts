import { getDb } from '$lib/db/db';
import type { PipelineRow } from '$lib/db/types';
import { deletePipeline as deleteStored, togglePipelinePaused } from '$lib/pipelines/store';
import { studioPipelines } from '$studio/pipelines';
import { notify } from '$lib/ui/notifications.svelte';

/** "Run now": starts a manual run in this tab, or queues/skips it when the model is busy, and says which. */
export async function runNow(pipeline: PipelineRow): Promise<void> {
  try {
    const outcome = await studioPipelines().executor.request(pipeline.id, { kind: 'manual', detail: 'Run now' });
    notify(outcome.status === 'started' ? 'info' : 'warn', outcome.message);
  } catch (error) {
    notify('error', `Could not start ${pipeline.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Pauses automatic triggers, or resumes them with the schedule counted from now (no burst of missed runs). */
export async function togglePause(pipeline: PipelineRow): Promise<void> {
  await togglePipelinePaused(getDb(), pipeline.id);
  notify('info', `${pipeline.name} ${pipeline.paused ? 'resumed' : 'paused'}.`);
}

/** Deletes a pipeline and its history (models, runs and datasets it produced stay). */
export async function deletePipeline(pipeline: PipelineRow): Promise<void> {
  await deleteStored(getDb(), pipeline.id);
  notify('info', `Deleted ${pipeline.name}.`);
}
