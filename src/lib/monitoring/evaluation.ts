import type { LoupeDb } from '$lib/db/db';
import type { EvalPointRow, ModelVersionRow } from '$lib/db/types';
import { MINUTE_MS } from './rollups';

/**
 * A periodic evaluation (the MachineInnovators exporter's job): every `everyMinutes` while the studio
 * is open, production is measured on a labelled dataset version and the metrics become a time series.
 */
export interface EvalSchedule {
  model: string;
  datasetId: string;
  everyMinutes: number;
  enabled: boolean;
  lastRunAt?: number;
}

export const SCHEDULES_KEY = 'monitoring:evaluations';

export class EvalScheduleError extends Error {
  override name = 'EvalScheduleError';
}

export async function readSchedules(db: LoupeDb): Promise<EvalSchedule[]> {
  return ((await db.settings.get(SCHEDULES_KEY))?.value as EvalSchedule[] | undefined) ?? [];
}

/** Adds or replaces the schedule of a model (one per model); throws naming the bad field. */
export async function saveSchedule(db: LoupeDb, schedule: EvalSchedule): Promise<void> {
  if (!schedule.model) throw new EvalScheduleError('evaluation schedule: model must be a model name');
  if (!schedule.datasetId) throw new EvalScheduleError(`evaluation schedule of ${schedule.model}: dataset must be a labelled dataset version`);
  if (!(Number.isFinite(schedule.everyMinutes) && schedule.everyMinutes >= 1)) {
    throw new EvalScheduleError(`evaluation schedule of ${schedule.model}: every must be at least 1 minute, got ${schedule.everyMinutes}`);
  }
  const rest = (await readSchedules(db)).filter((s) => s.model !== schedule.model);
  await db.settings.put({ key: SCHEDULES_KEY, value: [...rest, schedule] });
}

export async function removeSchedule(db: LoupeDb, model: string): Promise<void> {
  await db.settings.put({ key: SCHEDULES_KEY, value: (await readSchedules(db)).filter((s) => s.model !== model) });
}

/** Measures a version on a dataset version's held-out split; the studio's runs in the trainer worker. */
export type VersionEvaluator = (version: ModelVersionRow, datasetId: string) => Promise<Record<string, number>>;

/**
 * Evaluates a model's production version once and records the point (or the failure and its reason).
 * @example const point = await evaluateProduction(db, 'sentiment', 'ds-1', evaluator);
 */
export async function evaluateProduction(db: LoupeDb, model: string, datasetId: string, evaluate: VersionEvaluator, now = Date.now()): Promise<EvalPointRow> {
  const alias = await db.aliases.get([model, 'production']);
  const version = alias ? await db.modelVersions.where('[name+version]').equals([model, alias.version]).first() : undefined;
  const point: EvalPointRow = { model, ts: now, version: alias?.version ?? 0, datasetId, metrics: {} };
  try {
    if (!alias) throw new EvalScheduleError(`${model} has no production version to evaluate`);
    if (!version) throw new EvalScheduleError(`${model}'s production alias points to v${alias.version}, which does not exist`);
    point.metrics = await evaluate(version, datasetId);
  } catch (error) {
    point.error = error instanceof Error ? error.message : String(error);
  }
  point.id = await db.evalPoints.add(point);
  return point;
}

/** Runs every enabled schedule whose interval has passed; returns the points recorded. */
export async function runDueEvaluations(db: LoupeDb, evaluate: VersionEvaluator, now = Date.now()): Promise<EvalPointRow[]> {
  const points: EvalPointRow[] = [];
  for (const schedule of await readSchedules(db)) {
    if (!schedule.enabled || (schedule.lastRunAt !== undefined && now - schedule.lastRunAt < schedule.everyMinutes * MINUTE_MS)) continue;
    // Mark the run first, so a slow evaluation is not started again by the next tick.
    await saveSchedule(db, { ...schedule, lastRunAt: now });
    points.push(await evaluateProduction(db, schedule.model, schedule.datasetId, evaluate, now));
  }
  return points;
}
