import type { LoupeDb } from '$lib/db/db';
import type { RunStatus, SweepRow } from '$lib/db/types';
import { withLock } from '$lib/locks';
import { markInterruptedRuns, type TrainJobSpec } from '$lib/training/job';
import { isTrainingCancelled, TrainingCancelledError, type StopCheck } from '$lib/training/loop';
import type { ProgressCallback, ProgressEvent } from '$lib/progress';
import { FINAL_SWEEP_STATUSES, validateSweep, type ParamValue, type SweepTrial, type TrialStatus } from './definition';
import { hyperbandBands, hyperbandVerdict } from './hyperband';
import { trialSpec } from './parameters';
import { plannedTrials, proposeTrial } from './search';

/**
 * The local sweep controller: proposes trials, trains them one after another through a `TrialRunner`
 * (the trainer worker in the app, in-process in tests and workers), records each as a run grouped under
 * the sweep, stops weak trials with hyperband, and keeps every step in the sweep's row so a sweep
 * interrupted by a closed tab continues where it stopped without repeating a finished trial.
 */

export class SweepError extends Error {
  override name = 'SweepError';
}

export interface TrialHooks {
  onProgress?: ProgressCallback;
  /** Hears the trial's run id as soon as the run exists. */
  onRunCreated: (runId: string) => void;
  /** Asked after each epoch; true ends the run there (hyperband). */
  shouldStop: StopCheck;
}

/** Trains trials. One interface, two implementations: the trainer worker (page) and in-process. */
export interface TrialRunner {
  /** Trains `spec` as a new run with `parentId` = the sweep. */
  start(spec: TrainJobSpec, sweepId: string, hooks: TrialHooks): Promise<{ runId: string; metrics: Record<string, number> }>;
  /** Continues an interrupted trial run from its last checkpoint. */
  resume(runId: string, hooks: TrialHooks): Promise<{ runId: string; metrics: Record<string, number> }>;
  /** Stops a running trial run at its next batch (it is recorded as cancelled). */
  cancel(runId: string): Promise<void>;
}

export type SweepEvent =
  /** A trial was proposed, started, or ended. */
  | { kind: 'trial'; trial: SweepTrial; total: number }
  /** Training progress of the trial running now. */
  | { kind: 'train'; index: number; event: ProgressEvent };

export interface SweepContext {
  runner: TrialRunner;
  signal?: AbortSignal;
  onEvent?: (event: SweepEvent) => void;
}

export interface SweepResult {
  sweepId: string;
  status: RunStatus;
  /** The best trial's run (completed or stopped by hyperband), by the sweep's metric and goal. */
  bestRunId?: string;
  bestMetric?: number;
  bestParams?: Record<string, ParamValue>;
  trials: SweepTrial[];
}

/** Web Lock held by the tab running a sweep; a "running" sweep whose lock is free was interrupted. */
export const sweepLockName = (sweepId: string) => `loupe-sweep-${sweepId}`;

const FINAL_TRIAL: readonly TrialStatus[] = ['completed', 'stopped', 'failed', 'cancelled'];
/** A sweep whose trials keep failing the same way is stopped instead of burning through its cap. */
const MAX_CONSECUTIVE_FAILURES = 3;

/**
 * Validates a definition and stores a new sweep (status `queued`) on a dataset version.
 * @throws SweepDefinitionError naming the offending keys; SweepError when the dataset does not fit
 */
export async function createSweep(
  db: LoupeDb,
  source: string | object,
  options: { datasetId: string; name?: string; now?: number },
): Promise<SweepRow> {
  const { definition } = validateSweep(source);
  const dataset = await db.datasets.get(options.datasetId);
  if (!dataset) throw new SweepError(`dataset version ${options.datasetId} does not exist`);
  if (dataset.task !== definition.task) throw new SweepError(`dataset "${dataset.name}" is for ${dataset.task}, but the sweep trains ${definition.task}`);
  const row: SweepRow = {
    id: crypto.randomUUID(),
    name: options.name?.trim() || definition.name || `${definition.task} ${definition.method} sweep`,
    task: definition.task,
    datasetId: dataset.id,
    status: 'queued',
    createdAt: options.now ?? Date.now(),
    source: typeof source === 'string' ? source : JSON.stringify(source, null, 2),
    definition,
    trials: [],
  };
  await db.sweeps.add(row);
  return row;
}

/**
 * Creates a sweep and runs it to the end: the entry point for a pipeline's training step.
 * @example const { bestRunId } = await runSweep(db, yamlText, { datasetId, runner: workerTrialRunner('auto') });
 */
export async function runSweep(
  db: LoupeDb,
  source: string | object,
  options: SweepContext & { datasetId: string; name?: string },
): Promise<SweepResult> {
  const row = await createSweep(db, source, options);
  return continueSweep(db, row.id, options);
}

/**
 * Runs a stored sweep's remaining trials (all of them for a new sweep), holding the sweep's lock so no
 * two tabs run it at once. Finished trials are never repeated; an interrupted trial continues from its
 * run's last checkpoint.
 * @throws TrainingCancelledError after `signal` aborts (the sweep is recorded as cancelled)
 */
export function continueSweep(db: LoupeDb, sweepId: string, context: SweepContext): Promise<SweepResult> {
  return withLock(sweepLockName(sweepId), async () => {
    const stored = await db.sweeps.get(sweepId);
    if (!stored) throw new SweepError(`sweep ${sweepId} does not exist`);
    if (FINAL_SWEEP_STATUSES.includes(stored.status)) return summarize(stored);
    await db.sweeps.update(sweepId, { status: 'running', startedAt: stored.startedAt ?? Date.now(), failureReason: undefined });
    const { definition } = stored;
    const total = plannedTrials(definition);
    try {
      let failures = 0;
      let lastFailure = '';
      for (let index = 0; index < total; index++) {
        if (context.signal?.aborted) throw new TrainingCancelledError();
        const sweep = (await db.sweeps.get(sweepId))!;
        let trial = sweep.trials[index];
        if (trial && FINAL_TRIAL.includes(trial.status)) continue;
        if (!trial) {
          const params = proposeTrial(definition, index, sweep.trials);
          if (!params) break;
          trial = { index, params, status: 'queued' };
          await saveTrial(db, sweepId, trial);
          context.onEvent?.({ kind: 'trial', trial, total });
        }
        const ended = await runTrial(db, sweep, trial, total, context);
        if (ended.status === 'cancelled' && context.signal?.aborted) throw new TrainingCancelledError();
        if (ended.status === 'failed') {
          failures++;
          lastFailure = ended.reason ?? 'unknown reason';
          if (failures >= MAX_CONSECUTIVE_FAILURES) throw new SweepError(`${failures} trials in a row failed; the last one: ${lastFailure}`);
        } else failures = 0;
      }
      const done = (await db.sweeps.get(sweepId))!;
      const succeeded = done.trials.some((t) => t.status === 'completed' || t.status === 'stopped');
      if (!succeeded) throw new SweepError(`no trial finished${lastFailure ? `; the last failure: ${lastFailure}` : ''}`);
      await db.sweeps.update(sweepId, { status: 'completed', endedAt: Date.now() });
      return summarize((await db.sweeps.get(sweepId))!);
    } catch (error) {
      const cancelled = error instanceof TrainingCancelledError || context.signal?.aborted === true;
      await db.sweeps.update(sweepId, {
        status: cancelled ? 'cancelled' : 'failed',
        endedAt: Date.now(),
        ...(cancelled ? {} : { failureReason: error instanceof Error ? error.message : String(error) }),
      });
      throw cancelled && !(error instanceof TrainingCancelledError) ? new TrainingCancelledError() : error;
    }
  });
}

/** Trains (or continues) one trial and records how it ended. Cancellation and failure end the trial, not the call. */
async function runTrial(db: LoupeDb, sweep: SweepRow, trial: SweepTrial, total: number, context: SweepContext): Promise<SweepTrial> {
  const { definition } = sweep;
  const update = async (changes: Partial<SweepTrial>) => {
    Object.assign(trial, changes);
    await saveTrial(db, sweep.id, trial);
    context.onEvent?.({ kind: 'trial', trial: { ...trial }, total });
    return trial;
  };

  let resumeRunId: string | undefined;
  if (trial.runId) {
    const run = (await db.runs.get(trial.runId)) ?? undefined;
    if (run?.status === 'running' || run?.status === 'queued') await markInterruptedRuns(db);
    const current = run ? await db.runs.get(run.id) : undefined;
    if (current?.status === 'completed') return update(endedWith(trial, definition.metric.name, current.metrics ?? {}));
    if (current?.status === 'cancelled') return update({ status: 'cancelled', reason: 'its run was cancelled' });
    if (current?.resumable) resumeRunId = current.id;
    else if (current?.status === 'failed') return update({ status: 'failed', reason: current.failureReason ?? 'its run failed' });
    else if (current) await db.runs.update(current.id, { status: 'failed', failureReason: 'Interrupted before it started; the sweep trained this trial again.', endedAt: Date.now() });
  }

  // Trials start from the Train page's default for the data: the sentiment preset has its own model.
  const preset = (await db.datasets.get(sweep.datasetId))?.preset;
  const spec = trialSpec(definition.task, sweep.datasetId, trial.params, `${sweep.name} · trial ${trial.index + 1}`, preset);
  const et = definition.early_terminate;
  const bands = et ? hyperbandBands(et, spec.epochs) : [];
  const peers = bands.length ? await peerValues(db, sweep, trial.index, definition.metric.name) : new Map<number, number[]>();
  let runId = resumeRunId;
  const onAbort = () => void (runId && context.runner.cancel(runId));
  context.signal?.addEventListener('abort', onAbort);
  const hooks: TrialHooks = {
    onProgress: (event) => context.onEvent?.({ kind: 'train', index: trial.index, event }),
    onRunCreated: (created) => {
      runId = created;
      void update({ runId: created, status: 'running' });
      if (context.signal?.aborted) onAbort();
    },
    shouldStop: async (epoch, metrics) => {
      const value = metrics[definition.metric.name];
      if (value === undefined) {
        throw new SweepError(`metric.name "${definition.metric.name}" is not recorded by these runs; they record ${Object.keys(metrics).join(', ')}`);
      }
      if (!et || !bands.includes(epoch)) return false;
      const verdict = hyperbandVerdict(et.eta, definition.metric.goal, value, peers.get(epoch) ?? []);
      if (verdict.stop) {
        await update({
          stoppedAt: epoch,
          reason: `hyperband stopped it after epoch ${epoch}: ${definition.metric.name} ${round(value)} is worse than ${round(verdict.threshold)}, the bar among ${verdict.compared} trials`,
        });
      }
      return verdict.stop;
    },
  };
  try {
    if (resumeRunId) await update({ status: 'running' });
    const outcome = resumeRunId ? await context.runner.resume(resumeRunId, hooks) : await context.runner.start(spec, sweep.id, hooks);
    runId = outcome.runId;
    return await update({ runId: outcome.runId, ...endedWith(trial, definition.metric.name, outcome.metrics) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const cancelled = isTrainingCancelled(error) || context.signal?.aborted === true;
    return update(cancelled ? { status: 'cancelled', reason: 'cancelled' } : { status: 'failed', reason: message });
  } finally {
    context.signal?.removeEventListener('abort', onAbort);
  }
}

function endedWith(trial: SweepTrial, metric: string, metrics: Record<string, number>): Partial<SweepTrial> {
  const value = metrics[metric];
  return {
    status: trial.stoppedAt === undefined ? 'completed' : 'stopped',
    ...(value === undefined ? { reason: `the run recorded no ${metric}` } : { metric: value }),
  };
}

/** Every other trial's metric per epoch (hyperband compares trials at the same epoch). */
async function peerValues(db: LoupeDb, sweep: SweepRow, index: number, metric: string): Promise<Map<number, number[]>> {
  const runIds = sweep.trials.filter((t) => t.index !== index && t.runId).map((t) => t.runId!);
  const byEpoch = new Map<number, number[]>();
  if (runIds.length === 0) return byEpoch;
  const points = await db.metricPoints.where('runId').anyOf(runIds).and((p) => p.name === metric).toArray();
  for (const p of points) {
    const epoch = p.epoch ?? p.step;
    byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), p.value]);
  }
  return byEpoch;
}

/** Writes one trial into the sweep's row, in a transaction (the row holds the whole trial list). */
async function saveTrial(db: LoupeDb, sweepId: string, trial: SweepTrial): Promise<void> {
  await db.transaction('rw', db.sweeps, async () => {
    const row = await db.sweeps.get(sweepId);
    if (!row) throw new SweepError(`sweep ${sweepId} no longer exists`);
    const trials = [...row.trials];
    trials[trial.index] = { ...trial };
    await db.sweeps.update(sweepId, { trials });
  });
}

/** The best finished trial by the sweep's metric and goal; ties go to the earlier trial. */
export function bestTrial(sweep: Pick<SweepRow, 'definition' | 'trials'>): SweepTrial | undefined {
  const sign = sweep.definition.metric.goal === 'maximize' ? -1 : 1;
  let best: SweepTrial | undefined;
  for (const trial of sweep.trials) {
    if ((trial.status !== 'completed' && trial.status !== 'stopped') || trial.metric === undefined || !Number.isFinite(trial.metric) || !trial.runId) continue;
    if (!best || sign * trial.metric < sign * best.metric!) best = trial;
  }
  return best;
}

export function summarize(sweep: SweepRow): SweepResult {
  const best = bestTrial(sweep);
  return {
    sweepId: sweep.id,
    status: sweep.status,
    ...(best ? { bestRunId: best.runId, bestMetric: best.metric, bestParams: best.params } : {}),
    trials: sweep.trials,
  };
}

const round = (x: number) => Number(x.toPrecision(4));
