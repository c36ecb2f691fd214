import * as Comlink from 'comlink';
import type { ProgressEvent } from '$lib/progress';
import type { IngestApi } from '$lib/workers/types';
import type { DemoInstallResult, ImportOptions, ImportOutcome } from './api';
import type { InputEntry, SkippedItem } from './types';

export type ImportState = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

type Api = Pick<Comlink.Remote<IngestApi>, 'importDataset' | 'installDemoData' | 'cancel'>;

/**
 * The page's view of one import (or demo install) running in the ingest worker: progress counts,
 * the outcome with its validation report, or the error. A module-level singleton (see `importSession`),
 * so leaving the Datasets page and coming back shows the same job.
 */
export class ImportSession {
  state = $state<ImportState>('idle');
  label = $state('');
  done = $state(0);
  total = $state(0);
  note = $state<string>();
  error = $state<{ name: string; message: string }>();
  outcome = $state.raw<ImportOutcome>();
  demo = $state.raw<DemoInstallResult>();
  /** What the last job was: an upload's name, or the demo data. */
  title = $state('');
  #jobId?: string;
  #api: () => Api;

  constructor(api: () => Api) {
    this.#api = api;
  }

  readonly busy = $derived(this.state === 'running');
  readonly report = $derived<SkippedItem[]>(this.outcome?.report ?? []);

  async importFiles(entries: InputEntry[], options: ImportOptions): Promise<void> {
    await this.#run(options.name, (jobId, onProgress) =>
      this.#api()
        .importDataset({ jobId, entries, options }, onProgress)
        .then((outcome) => void (this.outcome = outcome)),
    );
  }

  async installDemo(): Promise<void> {
    await this.#run('demo data', (jobId, onProgress) =>
      this.#api()
        .installDemoData(jobId, onProgress)
        .then((result) => void (this.demo = result)),
    );
  }

  async cancel(): Promise<void> {
    if (this.#jobId && this.busy) await this.#api().cancel(this.#jobId);
  }

  /** Forgets a finished job (the panel goes back to its form). */
  reset(): void {
    if (this.busy) return;
    Object.assign(this, { state: 'idle', label: '', done: 0, total: 0, note: undefined, error: undefined, title: '' });
    this.outcome = undefined;
    this.demo = undefined;
  }

  async #run(title: string, launch: (jobId: string, onProgress: ((event: ProgressEvent) => void) & Comlink.ProxyMarked) => Promise<void>): Promise<void> {
    if (this.busy) throw new Error('an import is already running');
    const jobId = `import-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.#jobId = jobId;
    this.reset();
    Object.assign(this, { state: 'running', title, label: 'Starting' });
    try {
      await launch(jobId, Comlink.proxy((event: ProgressEvent) => this.#onProgress(event)));
      this.state = 'done';
    } catch (error) {
      const { name = 'Error', message = String(error) } = (error ?? {}) as Partial<Error>;
      this.error = { name, message };
      this.state = name === 'ImportCancelledError' ? 'cancelled' : 'failed';
    } finally {
      this.#jobId = undefined;
    }
  }

  #onProgress(event: ProgressEvent): void {
    if (event.kind === 'progress') Object.assign(this, { label: event.label, done: event.done, total: event.total });
    else if (event.kind === 'log') this.note = event.message;
  }
}
