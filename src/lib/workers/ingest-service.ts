import type { DatasetRow, DemoInstallResult, ImportOutcome, ImportRequest, SubsetOptions } from '$lib/datasets/api';
import { installDemoData } from '$lib/datasets/demo/install';
import { exportDataset } from '$lib/datasets/export';
import type { ImageProcessor } from '$lib/datasets/image-processor';
import { importUpload } from '$lib/datasets/ingest';
import { createSubset, sweepStaleStaging } from '$lib/datasets/store';
import { getDb, type LoupeDb } from '$lib/db/db';
import { sha256Hex } from '$lib/hash';
import { APP_VERSION } from '$lib/version';
import { releaseRemote } from './client';
import type { ProgressCallback } from '$lib/progress';
import type { HashedBytes, IngestApi, WorkerHello } from './types';

export interface IngestServiceOptions {
  /** The database (default: the worker's shared connection). */
  db?: () => LoupeDb;
  /** Image decoder (default: the browser's where it exists, else the pure-TS structural reader). */
  processor?: ImageProcessor;
}

/** The ingest worker's implementation; `workers/ingest.ts` exposes it with comlink. */
export class IngestService implements IngestApi {
  #jobs = new Map<string, AbortController>();
  #db: () => LoupeDb;
  #processor?: ImageProcessor;
  #swept = false;

  constructor(options: IngestServiceOptions = {}) {
    this.#db = options.db ?? getDb;
    this.#processor = options.processor;
  }

  async hello(): Promise<WorkerHello> {
    return { worker: 'ingest', appVersion: APP_VERSION };
  }

  async hashBytes(buffer: ArrayBuffer): Promise<HashedBytes> {
    return { hash: await sha256Hex(buffer), bytes: buffer.byteLength };
  }

  importDataset(request: ImportRequest, onProgress: ProgressCallback): Promise<ImportOutcome> {
    return this.#job(request.jobId, onProgress, async (signal) => {
      const db = this.#db();
      if (!this.#swept) {
        this.#swept = true;
        await sweepStaleStaging(db); // rows of an import whose tab closed midway
      }
      return importUpload(db, request.entries, request.options, { processor: this.#processor, signal, onProgress });
    });
  }

  installDemoData(jobId: string, onProgress: ProgressCallback): Promise<DemoInstallResult> {
    return this.#job(jobId, onProgress, (signal) => installDemoData(this.#db(), { processor: this.#processor, signal, onProgress }));
  }

  async exportDataset(datasetId: string, onProgress: ProgressCallback): Promise<Blob> {
    try {
      return await exportDataset(this.#db(), datasetId, onProgress);
    } finally {
      releaseRemote(onProgress);
    }
  }

  async createSubset(datasetId: string, options: SubsetOptions): Promise<DatasetRow> {
    return (await createSubset(this.#db(), datasetId, options)).dataset;
  }

  async cancel(jobId: string): Promise<void> {
    this.#jobs.get(jobId)?.abort();
  }

  /** Runs a cancellable job: reports `done` or `failed` last, and releases the progress proxy. */
  async #job<T>(jobId: string, onProgress: ProgressCallback, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.#jobs.set(jobId, controller);
    try {
      const result = await body(controller.signal);
      onProgress({ kind: 'done' });
      return result;
    } catch (error) {
      onProgress({ kind: 'failed', reason: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      this.#jobs.delete(jobId);
      releaseRemote(onProgress);
    }
  }
}
