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
    await this.#finish({ status: 'completed', metrics, endedAt: now });
  }

  async fail(reason: string, now = Date.now()): Promise<void> {
    await this.#finish({ status: 'failed', failureReason: reason, endedAt: now });
  }

  async cancel(now = Date.now()): Promise<void> {
    await this.#finish({ status: 'cancelled', endedAt: now });
  }

  async #finish(changes: Partial<RunRow>): Promise<void> {
    await this.flush();
    const current = await this.db.runs.get(this.id);
    if (!current) throw new Error(`run ${this.id} no longer exists`);
    if (FINAL.includes(current.status)) throw new Error(`run ${this.id} already ended as ${current.status}`);
    // A run that ends for good cannot be resumed any more; its checkpoints served their purpose.
    changes.resumable = false;
    await this.db.runs.update(this.id, changes);
  }
}

/** A run's metric series, e.g. `{ val_loss: [{step, value}…] }`, for curves. */
export async function metricSeries(db: LoupeDb, runId: string): Promise<Record<string, { step: number; value: number }[]>> {
  const points = await db.metricPoints.where('[runId+step]').between([runId, -Infinity], [runId, Infinity]).toArray();
  const series: Record<string, { step: number; value: number }[]> = {};
  for (const { name, step, value } of points) (series[name] ??= []).push({ step, value });
  return series;
}
