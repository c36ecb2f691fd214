import * as Comlink from 'comlink';
import { getDb } from '$lib/db/db';
import type { RunRow } from '$lib/db/types';
import { jobSpecOf, markInterruptedRuns, type TrainJobSpec } from '$lib/training/job';
import { isTrainingCancelled } from '$lib/training/loop';
import { metricSeries } from '$lib/training/run-tracker';
import { workers } from '$lib/workers';
import { WorkerCrashedError } from '$lib/workers/client';
import { describeProgress, type ProgressCallback, type ProgressEvent } from '$lib/progress';
import type { TrainJobOutcome } from '$lib/workers/types';

export type SessionState = 'idle' | 'starting' | 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * The page's view of the training job running in the trainer worker: progress, live curves, ETA.
 * A module-level singleton, so leaving the Train page and coming back shows the same job.
 */
export class TrainingSession {
  state = $state<SessionState>('idle');
  runId = $state<string>();
  spec = $state.raw<TrainJobSpec>();
  error = $state<string>();
  epoch = $state(0);
  epochs = $state(0);
  batch = $state(0);
  batches = $state(0);
  samplesPerSec = $state<number>();
  /** The last epoch whose checkpoint is stored: closing the tab now resumes after it. */
  savedEpoch = $state(0);
  startedAt = $state(0);
  /** Batch losses, x = fractional epoch. */
  batchLoss = $state.raw<{ x: number; y: number }[]>([]);
  /** Per-epoch metrics, e.g. { loss: [...], val_loss: [...], val_accuracy: [...] }. */
  epochMetrics = $state.raw<Record<string, { x: number; y: number }[]>>({});
  finalMetrics = $state.raw<Record<string, number>>();
  /** The latest note from the worker: a log line, or which fold is training. */
  note = $state<string>();
  /** A download before training (first weights from the hub): bytes so far and in all (0: unknown). */
  download = $state<{ label: string; done: number; total: number }>();

  readonly progress = $derived(this.epochs ? (this.epoch - 1 + (this.batches ? this.batch / this.batches : 0)) / this.epochs : 0);
  readonly etaMs = $derived.by(() => {
    if (this.state !== 'running' || this.progress <= 0.01) return undefined;
    const elapsed = Date.now() - this.startedAt;
    return (elapsed / this.progress) * (1 - this.progress);
  });
  readonly busy = $derived(this.state === 'starting' || this.state === 'running');

  /** Trains once, or with `folds` ≥ 2 runs k-fold cross-validation (curves show the current fold). */
  start(spec: TrainJobSpec, backendChoice: string, folds = 0): Promise<void> {
    return this.#follow(spec, (onProgress, onRunCreated) =>
      folds >= 2
        ? workers().trainer.api().crossValidate(spec, folds, backendChoice, onProgress, onRunCreated)
        : workers().trainer.api().train(spec, backendChoice, onProgress, onRunCreated),
    );
  }

  /** Continues an interrupted run; its earlier epochs reappear on the curves. */
  resume(run: RunRow, backendChoice: string): Promise<void> {
    const spec = jobSpecOf(run);
    return this.#follow(
      spec,
      (onProgress) => workers().trainer.api().resume(run.id, backendChoice, onProgress),
      run.id,
    );
  }

  async #follow(
    spec: TrainJobSpec,
    launch: (
      onProgress: ProgressCallback & Comlink.ProxyMarked,
      onRunCreated: ((runId: string) => void) & Comlink.ProxyMarked,
    ) => Promise<TrainJobOutcome>,
    runId?: string,
  ): Promise<void> {
    if (this.busy) throw new Error('a training job is already running');
    Object.assign(this, { state: 'starting', spec, error: undefined, runId, epoch: 1, epochs: spec.epochs, batch: 0, batches: 0, samplesPerSec: undefined, savedEpoch: 0 });
    this.batchLoss = [];
    this.epochMetrics = runId ? await this.#storedCurves(runId) : {};
    this.finalMetrics = undefined;
    this.note = undefined;
    this.download = undefined;
    this.startedAt = Date.now();
    if (runId) this.state = 'running';
    try {
      const outcome = await launch(
        Comlink.proxy((event: ProgressEvent) => this.#onProgress(event)),
        Comlink.proxy((created: string) => {
          this.runId = created;
          this.state = 'running';
        }),
      );
      this.finalMetrics = outcome.metrics;
      this.epoch = outcome.metrics.epochs ?? this.epochs;
      this.epochs = this.epoch; // an early stop ends the run: show it as whole
      this.batch = this.batches;
      this.state = 'completed';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.state = isTrainingCancelled(error) ? 'cancelled' : 'failed';
      this.error = message;
      // The worker died with its run: the run's lock went with it, so offer Resume now, not after a reload.
      if (error instanceof WorkerCrashedError) await markInterruptedRuns(getDb(), 'the trainer worker stopped').catch(() => {});
    }
  }

  async #storedCurves(runId: string): Promise<Record<string, { x: number; y: number }[]>> {
    const series = await metricSeries(getDb(), runId);
    return Object.fromEntries(Object.entries(series).map(([name, points]) => [name, points.map((p) => ({ x: p.step, y: p.value }))]));
  }

  async cancel(): Promise<void> {
    if (this.runId) await workers().trainer.api().cancel(this.runId);
  }

  #onProgress(event: ProgressEvent): void {
    switch (event.kind) {
      case 'log':
        this.note = event.message;
        break;
      case 'fold':
        // The curves show the current fold: start them over.
        this.note = describeProgress(event);
        this.batchLoss = [];
        this.epochMetrics = {};
        break;
      case 'progress':
        this.download = event.done === event.total && event.total > 0 ? undefined : { label: event.label, done: event.done, total: event.total };
        break;
      case 'batch':
        this.download = undefined;
        this.epoch = event.epoch;
        this.batch = event.batch;
        this.batches = event.batches;
        this.samplesPerSec = event.samplesPerSec;
        if (event.loss !== undefined) this.batchLoss = [...this.batchLoss, { x: event.epoch - 1 + event.batch / event.batches, y: event.loss }];
        break;
      case 'epoch': {
        const next = { ...this.epochMetrics };
        for (const [name, value] of Object.entries(event.metrics)) next[name] = [...(next[name] ?? []), { x: event.epoch, y: value }];
        this.epochMetrics = next;
        this.epoch = Math.min(event.epoch + 1, event.epochs);
        this.batch = event.epoch < event.epochs ? 0 : this.batch;
        break;
      }
      case 'checkpoint':
        this.savedEpoch = event.epoch;
        break;
      default:
        break;
    }
  }
}

export const trainingSession = new TrainingSession();
