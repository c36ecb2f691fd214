import type { LoupeDb } from '$lib/db/db';
import type { AlertRow, PipelineRow } from '$lib/db/types';
import { stateOf } from './config';
import { countNewLabelled } from './data';
import type { PipelineExecutor, RequestOutcome } from './executor';
import { evaluateTriggers, type TriggerFacts } from './triggers';
import type { RunTrigger } from './types';

/** Name of the Web Lock whose holder is the one tab that evaluates schedules and other triggers. */
export const SCHEDULER_LOCK = 'loupe-pipelines-scheduler';

/**
 * Elects this tab as the scheduler: resolves `onLeader` when it holds the lock, which it keeps until
 * `release` is called or the tab closes — then the next waiting tab gets it. Returns `release`.
 */
export type Elect = (onLeader: () => void) => () => void;

/** Web Locks election: every tab queues for one lock; the holder never lets go while it lives. */
export const webLocksElect: Elect = (onLeader) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const abort = new AbortController();
  const manager = globalThis.navigator?.locks;
  if (!manager) {
    onLeader(); // no Web Locks (old browsers): every tab schedules; the per-model run lock still allows one run
    return release;
  }
  manager
    .request(SCHEDULER_LOCK, { signal: abort.signal }, async () => {
      onLeader();
      await held;
    })
    .catch(() => {}); // aborted before we got it
  return () => {
    abort.abort();
    release();
  };
};

export interface SchedulerOptions {
  /** How often the leader evaluates triggers (ms). */
  tickMs?: number;
  /** How often the data trigger counts new labelled samples per pipeline (ms): the count reads the log. */
  dataCheckMs?: number;
  elect?: Elect;
  now?: () => number;
  timeZone?: string;
  /** Hears every trigger that fired and what became of it (the page shows a toast). */
  onTriggered?: (pipeline: PipelineRow, trigger: RunTrigger, outcome: RequestOutcome) => void;
}

/**
 * The tab-side scheduler. Every studio tab starts one; exactly one (elected with a Web Lock) ticks:
 * it evaluates each pipeline's schedule, data and alert triggers, starts or queues runs through the
 * executor, and picks up queued and interrupted runs. When that tab closes, another takes over.
 */
export class PipelineScheduler {
  #timer: ReturnType<typeof setInterval> | undefined;
  #release?: () => void;
  #ticking: Promise<void> | undefined;
  #lastDataCheck = new Map<string, number>();
  #listeners = new Set<(leader: boolean) => void>();
  leader = false;

  constructor(
    readonly db: LoupeDb,
    readonly executor: PipelineExecutor,
    private readonly options: SchedulerOptions = {},
  ) {}

  /** Joins the election; once leader, ticks every `tickMs`. */
  start(): void {
    if (this.#release) return;
    this.#release = (this.options.elect ?? webLocksElect)(() => {
      this.leader = true;
      for (const listener of this.#listeners) listener(true);
      void this.tick();
      this.#timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
    });
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#release?.();
    this.#release = undefined;
    this.leader = false;
    for (const listener of this.#listeners) listener(false);
  }

  /** Subscribes to leadership changes; returns the unsubscribe function. */
  onLeadership(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One evaluation of every trigger (ticks never overlap). Public for tests and background wake-ups. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    const now = this.options.now?.() ?? Date.now();
    void this.executor.drainAll().catch((error: unknown) => console.warn('pipelines: could not continue queued runs', error));
    const pipelines = await this.db.pipelines.toArray();
    if (pipelines.length === 0) return;
    const firing = await this.#retrainAlerts();
    const open = await this.db.pipelineRuns.where('status').anyOf('queued', 'running').toArray();
    for (const pipeline of pipelines) {
      if (pipeline.paused) continue;
      const facts: TriggerFacts = {
        retrainAlerts: firing.get(pipeline.model) ?? [],
        busy: open.some((r) => r.pipelineId === pipeline.id),
        newLabelled: await this.#countIfDue(pipeline, now),
      };
      const decision = evaluateTriggers(pipeline, facts, now, this.options.timeZone);
      if (decision.changed) await this.#saveState(pipeline, decision.state);
      const [first, ...others] = decision.triggers;
      if (!first) continue;
      const trigger: RunTrigger = others.length ? { ...first, detail: `${first.detail}; also ${others.map((t) => `${t.kind}: ${t.detail}`).join('; ')}` } : first;
      try {
        const outcome = await this.executor.request(pipeline.id, trigger);
        this.options.onTriggered?.(pipeline, trigger, outcome);
      } catch (error) {
        console.warn(`pipelines: could not start ${pipeline.name}`, error);
      }
    }
  }

  /** Counts new labelled data at most every `dataCheckMs` per pipeline (undefined when not due or the trigger is off). */
  async #countIfDue(pipeline: PipelineRow, now: number): Promise<number | undefined> {
    if (pipeline.config.triggers.minNewSamples <= 0) return undefined;
    const last = this.#lastDataCheck.get(pipeline.id) ?? -Infinity;
    if (now - last < (this.options.dataCheckMs ?? 30_000)) return undefined;
    this.#lastDataCheck.set(pipeline.id, now);
    const state = stateOf(pipeline);
    return countNewLabelled(this.db, pipeline, state.watermark ?? pipeline.createdAt, now);
  }

  /** Firing alerts whose rule asks to retrain, by model (the Monitoring side writes both tables). */
  async #retrainAlerts(): Promise<Map<string, AlertRow[]>> {
    const byModel = new Map<string, AlertRow[]>();
    const alerts = await this.db.alerts.where('state').equals('firing').toArray();
    if (alerts.length === 0) return byModel;
    const rules = new Map((await this.db.alertRules.bulkGet([...new Set(alerts.map((a) => a.rule))])).filter((r) => r !== undefined).map((r) => [r.id, r]));
    for (const alert of alerts) {
      const rule = rules.get(alert.rule);
      if (rule?.action !== 'retrain') continue;
      const model = rule.model ?? alert.labels?.model;
      byModel.set(model, [...(byModel.get(model) ?? []), alert]);
    }
    return byModel;
  }

  /** Writes the schedule/alert memory without clobbering what a run wrote meanwhile (watermark, base). */
  async #saveState(pipeline: PipelineRow, state: ReturnType<typeof stateOf>): Promise<void> {
    await this.db.transaction('rw', this.db.pipelines, async () => {
      const current = await this.db.pipelines.get(pipeline.id);
      if (!current) return;
      await this.db.pipelines.update(pipeline.id, {
        state: { ...stateOf(current), lastScheduledAt: state.lastScheduledAt, handledAlerts: state.handledAlerts },
      });
    });
  }
}
