import type { LoupeDb } from '$lib/db/db';
import type { PipelineRow, PipelineRunRow } from '$lib/db/types';
import { tryWithLock } from '$lib/locks';
import { executeRun, pendingSteps, type StepDefinition } from './runner';
import type { PipelineServices } from './services';
import { PIPELINE_STEPS } from './steps';
import type { RunTrigger } from './types';

/** Name of the Web Lock held while a run of a model's pipeline executes: at most one per model, across tabs. */
export const pipelineLockName = (model: string) => `loupe-pipeline-${model}`;

/** Runs `body` under the lock if it is free now; the default is the Web Locks API (`ifAvailable`). */
export type TryLock = <T>(name: string, body: () => Promise<T>) => Promise<{ acquired: true; value: T } | { acquired: false }>;

export type RequestOutcome =
  | { status: 'started'; run: PipelineRunRow; message: string; done: Promise<PipelineRunRow> }
  | { status: 'queued' | 'merged' | 'skipped'; run: PipelineRunRow; message: string; /** A skip counted on the previous skipped row. */ repeat?: boolean };

export interface ExecutorOptions {
  steps?: readonly StepDefinition[];
  tryLock?: TryLock;
  /** This tab's id, recorded on the runs it executes. */
  tabId?: string;
}

export class PipelineNotFound extends Error {
  override name = 'PipelineNotFound';
}

let runCounter = 0;
const newRunId = (now: number) => `pr-${String(now).padStart(15, '0')}-${String(++runCounter).padStart(4, '0')}-${crypto.randomUUID().slice(0, 6)}`;

/**
 * Starts pipeline runs with the single-run guarantee: a run executes only while its tab holds the
 * model's lock. A trigger that finds the model busy queues one run (later triggers merge into it) or,
 * when the pipeline says `skip`, is recorded as a skipped run with the reason. Queued runs start when
 * the lock frees up, in whichever tab gets it; runs left `running` by a closed tab resume.
 * @example const { message } = await executor.request(pipeline.id, { kind: 'manual', detail: 'Run now' });
 */
export class PipelineExecutor {
  readonly #steps: readonly StepDefinition[];
  readonly #tryLock: TryLock;
  readonly tabId: string;
  /** Runs executing in this tab, by id. */
  readonly #active = new Map<string, AbortController>();

  constructor(
    readonly services: PipelineServices,
    options: ExecutorOptions = {},
  ) {
    this.#steps = options.steps ?? PIPELINE_STEPS;
    this.#tryLock = options.tryLock ?? tryWithLock;
    this.tabId = options.tabId ?? crypto.randomUUID();
  }

  get #db(): LoupeDb {
    return this.services.db;
  }

  /** Ids of the runs this tab is executing now. */
  activeRuns(): string[] {
    return [...this.#active.keys()];
  }

  /** Starts a run of the pipeline now if its model is free, else queues or skips it (and says which). */
  async request(pipelineId: string, trigger: RunTrigger): Promise<RequestOutcome> {
    const pipeline = await this.#db.pipelines.get(pipelineId);
    if (!pipeline) throw new PipelineNotFound(`pipeline ${pipelineId} does not exist`);
    let announce!: (outcome: RequestOutcome) => void;
    const announced = new Promise<RequestOutcome>((resolve) => (announce = resolve));
    const attempt = this.#tryLock(pipelineLockName(pipeline.model), async () => {
      const run = this.#newRun(pipeline, trigger, 'running');
      await this.#db.pipelineRuns.add(run);
      const done = this.#execute(pipeline, run);
      done.catch(() => {}); // callers may not await it; a storage failure is not an unhandled rejection
      announce({ status: 'started', run, message: `Started ${pipeline.name} (${trigger.detail}).`, done });
      return done;
    });
    const lockFree = attempt.then((result) => result.acquired);
    lockFree.then(() => void this.drain(pipeline.model)).catch(() => {});
    const winner = await Promise.race([announced, lockFree.then((acquired) => (acquired ? announced : undefined))]);
    return winner ?? this.#busy(pipeline, trigger);
  }

  /** The model is busy: queue one run (merging with a queued one) or record the trigger as skipped. */
  async #busy(pipeline: PipelineRow, trigger: RunTrigger): Promise<RequestOutcome> {
    const db = this.#db;
    const now = this.services.now();
    const running = await db.pipelineRuns.where('model').equals(pipeline.model).filter((r) => r.status === 'running').first();
    const busyWith = running ? `run ${running.id} of ${running.pipelineId === pipeline.id ? 'this pipeline' : `pipeline ${running.pipelineId}`} is in progress` : `another run of ${pipeline.model} is in progress`;
    if (pipeline.config.overlap === 'skip') {
      const error = `Skipped: ${busyWith} (the pipeline skips overlapping triggers).`;
      return db.transaction('rw', db.pipelineRuns, async () => {
        // Repeated skips during one run (a schedule of seconds) count on one row instead of flooding the history.
        const latest = await db.pipelineRuns.where('[pipelineId+startedAt]').between([pipeline.id, -Infinity], [pipeline.id, Infinity]).last();
        if (latest?.status === 'skipped' && latest.error === error && latest.trigger.kind === trigger.kind) {
          const repeats = (latest.repeats ?? 1) + 1;
          await db.pipelineRuns.update(latest.id, { repeats, endedAt: now });
          return { status: 'skipped' as const, repeat: true, run: { ...latest, repeats, endedAt: now }, message: `${error} (${repeats} times)` };
        }
        const run = { ...this.#newRun(pipeline, trigger, 'skipped'), endedAt: now, error };
        await db.pipelineRuns.add(run);
        return { status: 'skipped' as const, run, message: error };
      });
    }
    // One transaction: two tabs queueing at once still leave one queued run.
    return db.transaction('rw', db.pipelineRuns, async () => {
      const queued = await db.pipelineRuns.where('pipelineId').equals(pipeline.id).filter((r) => r.status === 'queued').first();
      if (queued) {
        const notes = [...(queued.notes ?? []), `also triggered at ${new Date(now).toISOString()}: ${trigger.kind} — ${trigger.detail}`].slice(-50);
        await db.pipelineRuns.update(queued.id, { notes });
        return { status: 'merged' as const, run: { ...queued, notes }, message: `${pipeline.name} already has a run waiting (${busyWith}); this trigger joins it.` };
      }
      const run = { ...this.#newRun(pipeline, trigger, 'queued'), notes: [`queued: ${busyWith}`] };
      await db.pipelineRuns.add(run);
      return { status: 'queued' as const, run, message: `Queued ${pipeline.name}: ${busyWith}.` };
    });
  }

  #newRun(pipeline: PipelineRow, trigger: RunTrigger, status: PipelineRunRow['status']): PipelineRunRow {
    const now = this.services.now();
    return {
      id: newRunId(now),
      pipelineId: pipeline.id,
      model: pipeline.model,
      status,
      trigger,
      queuedAt: now,
      startedAt: now,
      steps: pendingSteps(this.#steps),
      artifacts: {},
      runner: this.tabId,
    };
  }

  async #execute(pipeline: PipelineRow, run: PipelineRunRow): Promise<PipelineRunRow> {
    const controller = new AbortController();
    this.#active.set(run.id, controller);
    try {
      run.dataUntil ??= this.services.now();
      return await executeRun(this.#db, pipeline, run, this.#steps, this.services, { runner: this.tabId, signal: controller.signal });
    } finally {
      this.#active.delete(run.id);
    }
  }

  /**
   * Starts the oldest queued run of the model if the model is free, and continues runs that a closed
   * tab left `running` (their lock is free, so nobody executes them). Resolves once that run ends.
   */
  async drain(model: string): Promise<void> {
    const db = this.#db;
    const waiting = (await db.pipelineRuns.where('model').equals(model).toArray()).filter((r) => (r.status === 'running' && !this.#active.has(r.id)) || r.status === 'queued');
    if (waiting.length === 0) return;
    let ran = false;
    await this.#tryLock(pipelineLockName(model), async () => {
      // Under the lock nobody else executes this model: a `running` row here was interrupted.
      const rows = (await db.pipelineRuns.where('model').equals(model).toArray()).filter((r) => r.status === 'running' || r.status === 'queued');
      const next = rows.find((r) => r.status === 'running') ?? rows.sort((a, b) => a.queuedAt - b.queuedAt)[0];
      if (!next) return;
      const pipeline = await db.pipelines.get(next.pipelineId);
      if (!pipeline) {
        await db.pipelineRuns.update(next.id, { status: 'failed', endedAt: this.services.now(), error: 'its pipeline was deleted' });
        ran = true;
        return;
      }
      if (next.status === 'running') {
        next.resumes = (next.resumes ?? 0) + 1;
        next.notes = [...(next.notes ?? []), `resumed at ${new Date(this.services.now()).toISOString()} after an interruption`];
      }
      ran = true;
      await this.#execute(pipeline, next);
    });
    if (ran) await this.drain(model);
  }

  /** Every model with queued or interrupted runs gets `drain`ed; resolves when all of them are idle. */
  async drainAll(): Promise<void> {
    const rows = await this.#db.pipelineRuns.where('status').anyOf('queued', 'running').toArray();
    const models = new Set(rows.filter((r) => !this.#active.has(r.id)).map((r) => r.model));
    await Promise.all([...models].map((model) => this.drain(model)));
  }

  /** Asks this tab's run of a pipeline to stop (the training step cancels its job). */
  cancel(runId: string): boolean {
    const controller = this.#active.get(runId);
    controller?.abort();
    return controller !== undefined;
  }
}
