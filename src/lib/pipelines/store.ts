import type { LoupeDb } from '$lib/db/db';
import type { PipelineRow } from '$lib/db/types';
import { stateOf, validatePipeline } from './config';

/**
 * Validates and stores a pipeline the user created or edited. An edit changes the name and the config
 * only; the scheduler's memory (`state`) and `paused` are kept as stored, and a changed schedule counts
 * from `now`, so saving never fires the new schedule at once.
 * @throws PipelineConfigError naming the field that is wrong (nothing is stored)
 * @example await savePipeline(db, { ...newPipeline('sentiment', 'sentiment'), name: 'Nightly' });
 */
export async function savePipeline(db: LoupeDb, row: PipelineRow, now = Date.now()): Promise<PipelineRow> {
  validatePipeline(row);
  return db.transaction('rw', db.pipelines, async () => {
    const stored = await db.pipelines.get(row.id);
    let next = row;
    if (stored) {
      const scheduleChanged = JSON.stringify(stored.config.triggers.schedule) !== JSON.stringify(row.config.triggers.schedule);
      next = { ...stored, name: row.name, config: row.config, updatedAt: now, state: scheduleChanged ? { ...stateOf(stored), lastScheduledAt: now } : stored.state };
    }
    await db.pipelines.put(next);
    return next;
  });
}

/**
 * Pauses a pipeline's automatic triggers, or resumes them with the schedule counted from `now` (no
 * burst of the runs missed while paused). Resolves to whether it is paused now; undefined if it is gone.
 */
export async function togglePipelinePaused(db: LoupeDb, id: string, now = Date.now()): Promise<boolean | undefined> {
  return db.transaction('rw', db.pipelines, async () => {
    const current = await db.pipelines.get(id);
    if (!current) return undefined;
    const paused = !current.paused;
    await db.pipelines.update(id, { paused, updatedAt: now, ...(paused ? {} : { state: { ...stateOf(current), lastScheduledAt: now } }) });
    return paused;
  });
}

/** Deletes a pipeline and its run history, in one transaction; the models, runs and datasets it produced stay. */
export async function deletePipeline(db: LoupeDb, id: string): Promise<void> {
  await db.transaction('rw', db.pipelines, db.pipelineRuns, async () => {
    await db.pipelineRuns.where('pipelineId').equals(id).delete();
    await db.pipelines.delete(id);
  });
}
