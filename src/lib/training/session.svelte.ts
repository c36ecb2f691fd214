import * as Comlink from 'comlink';
import type { TrainJobSpec } from '$lib/training/job';
import { workers } from '$lib/workers';
import type { ProgressEvent } from '$lib/workers/progress';

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
  startedAt = $state(0);
  /** Batch losses, x = fractional epoch. */
  batchLoss = $state.raw<{ x: number; y: number }[]>([]);
  /** Per-epoch metrics, e.g. { loss: [...], val_loss: [...], val_accuracy: [...] }. */
  epochMetrics = $state.raw<Record<string, { x: number; y: number }[]>>({});
  finalMetrics = $state.raw<Record<string, number>>();

  readonly progress = $derived(this.epochs ? (this.epoch - 1 + (this.batches ? this.batch / this.batches : 0)) / this.epochs : 0);
  readonly etaMs = $derived.by(() => {
    if (this.state !== 'running' || this.progress <= 0.01) return undefined;
    const elapsed = Date.now() - this.startedAt;
    return (elapsed / this.progress) * (1 - this.progress);
  });
  readonly busy = $derived(this.state === 'starting' || this.state === 'running');

  async start(spec: TrainJobSpec, backendChoice: string): Promise<void> {
    if (this.busy) throw new Error('a training job is already running');
    Object.assign(this, { state: 'starting', spec, error: undefined, runId: undefined, epoch: 1, epochs: spec.epochs, batch: 0 });
    this.batchLoss = [];
    this.epochMetrics = {};
    this.finalMetrics = undefined;
    this.startedAt = Date.now();
    try {
      const outcome = await workers()
        .trainer.api()
        .train(
          spec,
          backendChoice,
          Comlink.proxy((event: ProgressEvent) => this.#onProgress(event)),
          Comlink.proxy((runId: string) => {
            this.runId = runId;
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
      this.state = /cancelled/i.test(message) ? 'cancelled' : 'failed';
      this.error = message;
    }
  }

  async cancel(): Promise<void> {
    if (this.runId) await workers().trainer.api().cancel(this.runId);
  }

  #onProgress(event: ProgressEvent): void {
    switch (event.kind) {
      case 'batch':
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
      default:
        break;
    }
  }
}

export const trainingSession = new TrainingSession();
