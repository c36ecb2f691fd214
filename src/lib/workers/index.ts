import { WorkerClient, type WorkerCrashedError } from './client';
import type { InferenceApi, IngestApi, TrainerApi } from './types';

// Vite bundles each worker from these literal `new URL(…)` expressions, so they cannot be factored out.
const spawn = {
  trainer: () => new Worker(new URL('../../../workers/trainer.ts', import.meta.url), { type: 'module', name: 'loupe-trainer' }),
  inference: () =>
    new Worker(new URL('../../../workers/inference.ts', import.meta.url), { type: 'module', name: 'loupe-inference' }),
  ingest: () => new Worker(new URL('../../../workers/ingest.ts', import.meta.url), { type: 'module', name: 'loupe-ingest' }),
};

export interface StudioWorkers {
  trainer: WorkerClient<TrainerApi>;
  inference: WorkerClient<InferenceApi>;
  ingest: WorkerClient<IngestApi>;
}

let clients: StudioWorkers | undefined;
const crashListeners = new Set<(error: WorkerCrashedError) => void>();

/**
 * Calls `listener` whenever one of the page's workers crashes (the shell shows it as an error toast).
 * @example onWorkerCrash((error) => notify('error', error.message));
 * @returns the function that unsubscribes
 */
export function onWorkerCrash(listener: (error: WorkerCrashedError) => void): () => void {
  crashListeners.add(listener);
  return () => crashListeners.delete(listener);
}

/** The page's three workers, started lazily on first use; a crash is told to `onWorkerCrash` listeners. */
export function workers(): StudioWorkers {
  if (clients) return clients;
  clients = {
    trainer: new WorkerClient<TrainerApi>('trainer', spawn.trainer),
    inference: new WorkerClient<InferenceApi>('inference', spawn.inference),
    ingest: new WorkerClient<IngestApi>('ingest', spawn.ingest),
  };
  for (const client of [clients.trainer, clients.inference, clients.ingest]) {
    client.onCrash((error) => {
      for (const listener of crashListeners) listener(error);
    });
  }
  return clients;
}
