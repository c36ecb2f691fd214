import { getDb } from '$lib/db/db';
import type { PipelineRow } from '$lib/db/types';
import { stateOf } from '$lib/pipelines/config';
import { studioPipelines } from '$lib/pipelines/studio';
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
  const now = Date.now();
  const db = getDb();
  await db.transaction('rw', db.pipelines, async () => {
    const current = await db.pipelines.get(pipeline.id);
    if (!current) return;
    const paused = !current.paused;
    await db.pipelines.update(pipeline.id, { paused, updatedAt: now, ...(paused ? {} : { state: { ...stateOf(current), lastScheduledAt: now } }) });
  });
  notify('info', `${pipeline.name} ${pipeline.paused ? 'resumed' : 'paused'}.`);
}

/** Deletes a pipeline and its history (models, runs and datasets it produced stay). */
export async function deletePipeline(pipeline: PipelineRow): Promise<void> {
  const db = getDb();
  await db.transaction('rw', db.pipelines, db.pipelineRuns, async () => {
    await db.pipelineRuns.where('pipelineId').equals(pipeline.id).delete();
    await db.pipelines.delete(pipeline.id);
  });
  notify('info', `Deleted ${pipeline.name}.`);
}
