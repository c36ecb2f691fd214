import type { LoupeDb } from '$lib/db/db';
import type { BackendName, MetricPointRow, RunRow, RunStatus, TaskName } from '$lib/db/types';
import type { RunParams } from '$lib/db/specs';
import { APP_VERSION, GIT_COMMIT } from '$lib/version';

export interface NewRun {
  name: string;
  task: TaskName;
  params: RunParams;
  seed: number;
  datasetVersion: string;
  parentId?: string;
}

const FINAL: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Records one run the way MLflow does: params up front, metric points as they come (buffered and
 * written in one transaction per flush), then a final status with metrics or the failure reason.
 * @example const run = await RunTracker.create(db, { name: 'coin baseline', task: 'coin-year', … });
 */
export class RunTracker {
  #points: MetricPointRow[] = [];

  private constructor(
    readonly db: LoupeDb,
    readonly id: string,
  ) {}

  /** A new run in status `queued`. */
  static async create(db: LoupeDb, run: NewRun, now = Date.now()): Promise<RunTracker> {
    const id = crypto.randomUUID();
    const row: RunRow = {
      id,
      ...run,
      status: 'queued',
      createdAt: now,
      appVersion: APP_VERSION,
      ...(GIT_COMMIT ? { gitCommit: GIT_COMMIT } : {}),
    };
    await db.runs.add(row);
    return new RunTracker(db, id);
  }

  /** Re-attaches to a stored run, e.g. to resume it after a reload. */
  static attach(db: LoupeDb, id: string): RunTracker {
    return new RunTracker(db, id);
  }

  /** Marks the run running (again, when resumed: the first start time is kept). */
  async start(backend: BackendName, adapter: string, now = Date.now()): Promise<void> {
    const current = await this.db.runs.get(this.id);
    await this.db.runs.update(this.id, {
      status: 'running',
      startedAt: current?.startedAt ?? now,
      sessionStartedAt: now,
      backend,
      adapter,
      resumable: false,
      failureReason: undefined,
    });
  }

  /** Buffers metric points; they reach the database on `flush` (the trainer flushes every epoch). */
  log(step: number, metrics: Record<string, number>, epoch?: number, ts = Date.now()): void {
    for (const [name, value] of Object.entries(metrics)) {
      this.#points.push({ runId: this.id, step, name, value, ts, ...(epoch === undefined ? {} : { epoch }) });
    }
  }

  async flush(): Promise<void> {
    if (this.#points.length === 0) return;
    const points = this.#points;
    this.#points = [];
    await this.db.metricPoints.bulkAdd(points);
  }

  async complete(metrics: Record<string, number>, now = Date.now()): Promise<void> {
    await this.#finish({ status: 'completed', metrics, endedAt: now }, now);
  }

  async fail(reason: string, now = Date.now()): Promise<void> {
    await this.#finish({ status: 'failed', failureReason: reason, endedAt: now }, now);
  }

  async cancel(now = Date.now()): Promise<void> {
    await this.#finish({ status: 'cancelled', endedAt: now }, now);
  }

  async #finish(changes: Partial<RunRow>, now: number): Promise<void> {
    await this.flush();
    const current = await this.db.runs.get(this.id);
    if (!current) throw new Error(`run ${this.id} no longer exists`);
    if (FINAL.includes(current.status)) throw new Error(`run ${this.id} already ended as ${current.status}`);
    // A run that ends for good cannot be resumed any more; its checkpoints served their purpose.
    changes.resumable = false;
    changes.trainingMs = withSession(current, now);
    await this.db.runs.update(this.id, changes);
  }
}

/** The run's training time with its current session counted up to `until`. */
export function withSession(run: Pick<RunRow, 'trainingMs' | 'sessionStartedAt' | 'startedAt'>, until: number): number {
  const since = run.sessionStartedAt ?? run.startedAt;
  return (run.trainingMs ?? 0) + (since === undefined ? 0 : Math.max(0, until - since));
}

/**
 * How long a run has trained: the sessions it ran in, not the time a closed tab kept it waiting for Resume.
 * Undefined while it has not started. Runs stored before training time was recorded count start to end.
 * @example runDuration(run, Date.now()) // 42_000 for a run trained 30 s, closed for an hour, resumed for 12 s
 */
export function runDuration(run: RunRow, now: number): number | undefined {
  if (run.startedAt === undefined) return undefined;
  if (run.status === 'running') return withSession(run, now);
  if (run.trainingMs !== undefined) return run.trainingMs;
  return run.endedAt === undefined ? undefined : run.endedAt - run.startedAt;
}

/** A run stopped by a closed tab, a crashed worker, a lost device or full storage, that Resume continues. */
export function isInterrupted(run: Pick<RunRow, 'status' | 'resumable'>): boolean {
  return run.resumable === true && run.status !== 'completed' && run.status !== 'cancelled';
}

/** The status a person reads: `interrupted — resumable` rather than `failed` for a run Resume continues. */
export function runStatusText(run: Pick<RunRow, 'status' | 'resumable'>): string {
  return isInterrupted(run) ? 'interrupted — resumable' : run.status;
}

/** A run's metric series, e.g. `{ val_loss: [{step, value}…] }`, for curves. */
export async function metricSeries(db: LoupeDb, runId: string): Promise<Record<string, { step: number; value: number }[]>> {
  const points = await db.metricPoints.where('[runId+step]').between([runId, -Infinity], [runId, Infinity]).toArray();
  const series: Record<string, { step: number; value: number }[]> = {};
  for (const { name, step, value } of points) (series[name] ??= []).push({ step, value });
  return series;
}
