import { describe, expect, it } from 'vitest';
import type { PipelineRunRow } from '../../../src/lib/db/types';
import { newPipeline } from '../../../src/lib/pipelines/config';
import { deletePipeline, savePipeline, togglePipelinePaused } from '../../../src/lib/pipelines/store';
import { makeDb } from '../factories';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

function pipelineRun(id: string, pipelineId: string): PipelineRunRow {
  return { id, pipelineId, model: 'sentiment', status: 'completed', trigger: { kind: 'manual', detail: 'Run now' }, queuedAt: T0, startedAt: T0, steps: [], artifacts: {} };
}

describe('saving a pipeline', () => {
  it('stores a new pipeline, and refuses an invalid one naming the field without storing it', async () => {
    const db = makeDb();
    const row = newPipeline('sentiment', 'text-classification', T0);
    await expect(savePipeline(db, row, T0)).resolves.toEqual(row);
    expect(await db.pipelines.get(row.id)).toEqual(row);
    const bad = newPipeline('sentiment', 'text-classification', T0);
    bad.config.train.recipe.epochs = 0;
    await expect(savePipeline(db, bad, T0)).rejects.toThrow(/train\.recipe\.epochs must be a whole number ≥ 1, got 0/);
    expect(await db.pipelines.count()).toBe(1);
  });

  it('counts a changed schedule from the save, so the new schedule does not fire at once', async () => {
    const db = makeDb();
    const row = await savePipeline(db, newPipeline('sentiment', 'text-classification', T0), T0);
    const edited = structuredClone(row);
    edited.config.triggers.schedule = { kind: 'interval', every: 1, unit: 'hours' };
    const saved = await savePipeline(db, edited, T0 + 5 * HOUR);
    expect(saved).toMatchObject({ updatedAt: T0 + 5 * HOUR, state: { lastScheduledAt: T0 + 5 * HOUR }, config: { triggers: { schedule: { every: 1, unit: 'hours' } } } });
    expect(await db.pipelines.get(row.id)).toEqual(saved);
  });

  it('keeps the stored schedule memory and pause when only the name or recipe changes', async () => {
    const db = makeDb();
    const row = await savePipeline(db, newPipeline('sentiment', 'text-classification', T0), T0);
    // Meanwhile the scheduler fired and the user paused it from the list.
    await db.pipelines.update(row.id, { paused: true, state: { lastScheduledAt: T0 + HOUR, watermark: T0 + HOUR } });
    const saved = await savePipeline(db, { ...row, name: 'Nightly sentiment' }, T0 + 2 * HOUR);
    expect(saved).toMatchObject({ name: 'Nightly sentiment', paused: true, updatedAt: T0 + 2 * HOUR, state: { lastScheduledAt: T0 + HOUR, watermark: T0 + HOUR } });
  });
});

describe('pausing a pipeline', () => {
  it('pauses, then resumes with the schedule counted from the resume (no burst of missed runs)', async () => {
    const db = makeDb();
    const row = await savePipeline(db, newPipeline('sentiment', 'text-classification', T0), T0);
    await expect(togglePipelinePaused(db, row.id, T0 + HOUR)).resolves.toBe(true);
    expect(await db.pipelines.get(row.id)).toMatchObject({ paused: true, updatedAt: T0 + HOUR, state: { lastScheduledAt: T0 } });
    await expect(togglePipelinePaused(db, row.id, T0 + 30 * HOUR)).resolves.toBe(false);
    expect(await db.pipelines.get(row.id)).toMatchObject({ paused: false, updatedAt: T0 + 30 * HOUR, state: { lastScheduledAt: T0 + 30 * HOUR } });
    await expect(togglePipelinePaused(db, 'gone', T0)).resolves.toBeUndefined();
  });
});

describe('deleting a pipeline', () => {
  it('removes the pipeline and its run history, and nothing of other pipelines', async () => {
    const db = makeDb();
    const a = await savePipeline(db, newPipeline('sentiment', 'text-classification', T0), T0);
    const b = await savePipeline(db, newPipeline('coin-year', 'coin-year', T0 + 1), T0 + 1);
    await db.pipelineRuns.bulkPut([pipelineRun('r1', a.id), pipelineRun('r2', a.id), pipelineRun('r3', b.id)]);
    await deletePipeline(db, a.id);
    expect((await db.pipelines.toArray()).map((p) => p.id)).toEqual([b.id]);
    expect((await db.pipelineRuns.toArray()).map((r) => r.id)).toEqual(['r3']);
  });
});
