import type { LoupeDb } from '$lib/db/db';
import type { PipelineRow, PipelineRunRow } from '$lib/db/types';
import type { PipelineServices } from './services';
import type { PipelineConfig, RunArtifacts, StepKind, StepName, StepRecord } from './types';

/**
 * Executes a pipeline run as a graph of steps, recording each step's status, times, log and output in
 * the run's row as it goes. A run that was interrupted (the tab reloaded) continues from its row:
 * completed steps are not repeated, and the step it was in runs again — every step is written to be
 * idempotent (content-addressed datasets, a training run resumed from its checkpoint, a registration
 * or gate decision found instead of repeated).
 */

export interface StepContext {
  pipeline: PipelineRow;
  run: PipelineRunRow;
  record: StepRecord;
  services: PipelineServices;
  /** True when this step was running when the run was interrupted. */
  resumed: boolean;
  signal?: AbortSignal;
  /** The output of an earlier step that completed; undefined when it did not run. */
  outputOf<T extends object = Record<string, unknown>>(name: StepName): T | undefined;
  log(line: string): void;
  progress(progress: StepRecord['progress']): void;
  /** Stores part of the output now (e.g. a training run's id), so that a resumed step finds it. */
  checkpoint(partial: Record<string, unknown>): Promise<void>;
}

export interface StepDefinition {
  name: StepName;
  kind: StepKind;
  /** Steps that must have completed for this one to run; otherwise it is skipped, saying which. */
  needs: StepName[];
  /** Whether the pipeline's config turns the step on. */
  enabled(config: PipelineConfig): boolean;
  /** A reason to skip although enabled and its needs completed (e.g. deploy after a rejection). */
  skipReason?(ctx: StepContext): string | undefined;
  run(ctx: StepContext): Promise<Record<string, unknown>>;
  /** What of the output the run's summary shows. */
  artifacts?(output: Record<string, unknown>): Partial<RunArtifacts>;
}

export function pendingSteps(steps: readonly StepDefinition[]): StepRecord[] {
  return steps.map(({ name, kind }) => ({ name, kind, status: 'pending', log: [] }));
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Writes a run row, one write at a time, with log lines batched (at most every `logEveryMs`). */
class RunWriter {
  #chain: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: LoupeDb,
    private readonly run: PipelineRunRow,
    private readonly logEveryMs = 500,
  ) {}

  save(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const snapshot = structuredClone(this.run);
    const write = this.#chain.then(() => this.db.pipelineRuns.put(snapshot));
    this.#chain = write.catch(() => {});
    return write.then(() => undefined);
  }

  soon(): void {
    this.#timer ??= setTimeout(() => void this.save().catch(() => {}), this.logEveryMs);
  }
}

export interface ExecuteOptions {
  /** The tab executing it, recorded on the row. */
  runner?: string;
  signal?: AbortSignal;
}

/**
 * Runs (or continues) `run` through `steps` and returns the finished row. The caller holds the
 * model's pipeline lock. Never throws for a step's failure: the run is recorded as failed with the reason.
 */
export async function executeRun(
  db: LoupeDb,
  pipeline: PipelineRow,
  run: PipelineRunRow,
  steps: readonly StepDefinition[],
  services: PipelineServices,
  options: ExecuteOptions = {},
): Promise<PipelineRunRow> {
  const writer = new RunWriter(db, run);
  const now = () => services.now();
  // Rows from before a step was added get its record; records keep the steps' order.
  run.steps = steps.map((step) => run.steps.find((r) => r.name === step.name) ?? { name: step.name, kind: step.kind, status: 'pending', log: [] });
  if (run.status !== 'running') {
    run.status = 'running';
    run.startedAt = now();
  }
  run.runner = options.runner;
  await writer.save();

  const byName = new Map(run.steps.map((r) => [r.name, r]));
  let failed: string | undefined;
  for (const step of steps) {
    const record = byName.get(step.name)!;
    if (record.status === 'completed' || record.status === 'skipped') continue;
    if (!failed && options.signal?.aborted) {
      failed = 'the run was cancelled';
      run.error = 'Cancelled.';
    }
    if (failed) {
      Object.assign(record, { status: 'skipped', log: [...record.log, `not run: ${failed}`] });
      continue;
    }
    const resumed = record.status === 'running' || record.status === 'failed';
    const context: StepContext = {
      pipeline,
      run,
      record,
      services,
      resumed,
      signal: options.signal,
      outputOf: <T extends object>(name: StepName) => {
        const earlier = byName.get(name);
        return earlier?.status === 'completed' ? (earlier.output as T | undefined) : undefined;
      },
      log: (line) => {
        record.log.push(line);
        writer.soon();
      },
      progress: (progress) => {
        record.progress = progress;
        writer.soon();
      },
      checkpoint: async (partial) => {
        record.output = { ...record.output, ...partial };
        await writer.save();
      },
    };
    const skip = skipReason(step, context, byName);
    if (skip) {
      Object.assign(record, { status: 'skipped', startedAt: now(), endedAt: now() });
      record.log.push(skip);
      continue;
    }
    Object.assign(record, { status: 'running', startedAt: resumed ? record.startedAt ?? now() : now(), endedAt: undefined, error: undefined });
    if (resumed) record.log.push(`resumed at ${new Date(now()).toISOString()} after an interruption`);
    await writer.save();
    try {
      const output = await step.run(context);
      Object.assign(record, { status: 'completed', endedAt: now(), output: { ...record.output, ...output }, progress: undefined });
      run.artifacts = { ...run.artifacts, ...step.artifacts?.(record.output!) };
    } catch (error) {
      Object.assign(record, { status: 'failed', endedAt: now(), error: message(error), progress: undefined });
      record.log.push(`failed: ${message(error)}`);
      failed = `step ${step.name} failed`;
      run.error = `${step.name}: ${message(error)}`;
    }
    await writer.save();
  }

  run.status = options.signal?.aborted ? 'cancelled' : failed ? 'failed' : 'completed';
  run.endedAt = now();
  await writer.save();
  if (!failed) await advanceState(db, pipeline.id, run);
  return run;
}

function skipReason(step: StepDefinition, context: StepContext, byName: Map<StepName, StepRecord>): string | undefined {
  if (!step.enabled(context.pipeline.config)) return 'skipped: turned off in the pipeline config';
  const missing = step.needs.filter((name) => byName.get(name)?.status !== 'completed');
  if (missing.length) return `skipped: needs ${missing.join(', ')}, which did not run`;
  return step.skipReason?.(context);
}

/** After a completed run: its data is taken (watermark), and its dataset version is the next base. */
async function advanceState(db: LoupeDb, pipelineId: string, run: PipelineRunRow): Promise<void> {
  const dataset = run.steps.find((s) => s.name === 'dataset');
  await db.transaction('rw', db.pipelines, async () => {
    const row = await db.pipelines.get(pipelineId);
    if (!row) return;
    const state = { ...row.state };
    if (dataset?.status === 'completed') {
      state.watermark = run.dataUntil ?? state.watermark;
      state.datasetId = String(dataset.output?.datasetId ?? state.datasetId ?? '') || undefined;
    }
    await db.pipelines.update(pipelineId, { state });
  });
}
