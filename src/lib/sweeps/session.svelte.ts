import { getDb } from '$lib/db/db';
import { isLockHeld } from '$lib/locks';
import { getSetting } from '$lib/settings';
import { isTrainingCancelled } from '$lib/training/loop';
import { notify } from '$lib/ui/notifications.svelte';
import { continueSweep, createSweep, sweepLockName, type SweepEvent } from './controller';
import type { ParamValue } from './definition';
import { trialSpec } from './parameters';
import { workerTrialRunner } from '$lib/workers/sweep-runner';

/**
 * The page's view of the sweep this tab is running: which trial, and that trial's epoch and batch. The
 * rest (every trial, its status and metric) is read from IndexedDB with live queries, so other tabs
 * see the same sweep. A module-level singleton: leaving the Sweeps page and coming back shows it.
 */
export class SweepSession {
  /** The sweep running in this tab. */
  sweepId = $state<string>();
  trial = $state<number>();
  epoch = $state(0);
  epochs = $state(0);
  batch = $state(0);
  batches = $state(0);
  error = $state<string>();
  #controller?: AbortController;
  #epochsOf: (params: Record<string, ParamValue>) => number = () => 0;

  readonly busy = $derived(this.sweepId !== undefined);
  /** Progress of the running trial, 0…1. */
  readonly trialProgress = $derived(this.epochs ? Math.min(1, (this.epoch - 1 + (this.batches ? this.batch / this.batches : 0)) / this.epochs) : 0);

  /** Validates and stores a new sweep, then runs it in the background; resolves with its id once stored. */
  async start(source: string, datasetId: string, name?: string): Promise<string> {
    if (this.busy) throw new Error('a sweep is already running in this tab: wait for it or cancel it');
    const row = await createSweep(getDb(), source, { datasetId, name });
    void this.run(row.id);
    return row.id;
  }

  /** Runs (or continues) a stored sweep's remaining trials in the trainer worker. */
  async run(sweepId: string): Promise<void> {
    if (this.busy) return;
    this.#controller = new AbortController();
    Object.assign(this, { sweepId, trial: undefined, epoch: 0, epochs: 0, batch: 0, batches: 0, error: undefined });
    try {
      const sweep = await getDb().sweeps.get(sweepId);
      const epochsOf = (params: Record<string, ParamValue>) => (sweep ? trialSpec(sweep.task, sweep.datasetId, params).epochs : 0);
      this.#epochsOf = epochsOf;
      const backend = await getSetting(getDb(), 'backend');
      const result = await continueSweep(getDb(), sweepId, {
        runner: workerTrialRunner(backend),
        signal: this.#controller.signal,
        onEvent: (event) => this.#onEvent(event),
      });
      if (result.status === 'completed') notify('ok', `Sweep finished: ${result.trials.length} trials.`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!isTrainingCancelled(error)) {
        this.error = message;
        notify('error', `The sweep failed: ${message}`);
      }
    } finally {
      this.sweepId = undefined;
      this.#controller = undefined;
    }
  }

  /** Stops the running trial at its next batch; the sweep is recorded as cancelled. */
  cancel(): void {
    this.#controller?.abort();
  }

  #onEvent(event: SweepEvent): void {
    if (event.kind === 'trial') {
      if (event.trial.status === 'running' && this.trial !== event.trial.index) {
        Object.assign(this, { trial: event.trial.index, epoch: 1, epochs: this.#epochsOf(event.trial.params), batch: 0, batches: 0 });
      }
      return;
    }
    const progress = event.event;
    this.trial = event.index;
    if (progress.kind === 'batch') Object.assign(this, { epoch: progress.epoch, batch: progress.batch, batches: progress.batches });
    else if (progress.kind === 'epoch') Object.assign(this, { epoch: Math.min(progress.epoch + 1, progress.epochs), epochs: progress.epochs, batch: 0 });
  }
}

export const sweepSession = new SweepSession();

/**
 * Continues sweeps left running by a tab that closed (their lock is free), one after another. Called
 * once at start-up; a sweep another tab is running is left to that tab.
 */
export async function resumeUnfinishedSweeps(): Promise<void> {
  const db = getDb();
  const open = await db.sweeps.where('status').anyOf('running', 'queued').sortBy('createdAt');
  for (const sweep of open) {
    if (await isLockHeld(sweepLockName(sweep.id))) continue;
    notify('info', `Continuing sweep "${sweep.name}" where it stopped.`);
    await sweepSession.run(sweep.id);
  }
}
