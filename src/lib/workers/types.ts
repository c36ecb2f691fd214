import type { BackendInfo, BackendStatus } from '$lib/backends/tfjs';
import type { ModelVersionRow } from '$lib/db/types';
import type { InferenceMemory, InferenceModelApi, LoadedModel } from '$lib/serving/types';
import type { TrainJobSpec } from '$lib/training/job';
import type { StopCheck } from '$lib/training/loop';
import type { DatasetRow, DemoInstallResult, ImportOutcome, ImportRequest, SubsetOptions } from '$lib/datasets/api';
import type { ProgressCallback } from '$lib/progress';
import type { BaselineRequest, RegisteredOutcome } from '$lib/workflows/baseline';
import type { QuickTrainOutcome, QuickTrainRequest } from '$lib/workflows/quick-train';
import type { TextModelInfo, TextModelRole } from '$lib/text/encoder/service';
import type { ModelRef } from '$lib/text/encoder/source';

/**
 * The APIs of Loupe's workers, defined once. The real classes (`src/lib/workers/*-service.ts`) run in
 * the worker; the page holds a comlink `Remote<…>` of the same interface.
 */

export interface WorkerHello {
  worker: WorkerKind;
  appVersion: string;
}

export type WorkerKind = 'trainer' | 'inference' | 'ingest';

interface WorkerBase {
  /** Round trip: proves the worker loaded and answers. */
  hello(): Promise<WorkerHello>;
}

interface ComputeWorker extends WorkerBase {
  /** Resolves the backend choice inside the worker (cached) and reports what it got. */
  useBackend(choice: string): Promise<BackendInfo>;
}

export interface TrainingCheckResult {
  backend: BackendInfo;
  steps: number;
  initialLoss: number;
  finalLoss: number;
  /** Norm of the first step's gradient: must be finite and non-zero (tensorflow/tfjs#8590). */
  firstGradientNorm: number;
}

export interface TrainJobOutcome {
  runId: string;
  metrics: Record<string, number>;
}

/** What a sweep trial trains: a new run under the sweep, or the interrupted run of a trial. */
export type SweepTrialRequest = { kind: 'start'; spec: TrainJobSpec; sweepId: string } | { kind: 'resume'; runId: string };

export interface TrainerApi extends ComputeWorker {
  /** Fits a tiny linear model on the chosen backend to prove gradients flow; reports each step. */
  checkTraining(choice: string, steps: number, onProgress: ProgressCallback): Promise<TrainingCheckResult>;
  /**
   * Runs a training job on the chosen backend, recording it as a run in IndexedDB. `onRunCreated`
   * hears the run id as soon as the run exists (before the first batch).
   */
  train(
    spec: TrainJobSpec,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
  ): Promise<TrainJobOutcome>;
  /** K-fold cross-validation: a parent run (announced through `onRunCreated`) and k child runs. */
  crossValidate(
    spec: TrainJobSpec,
    k: number,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
  ): Promise<TrainJobOutcome>;
  /** Continues an interrupted run from its last checkpoint. */
  resume(runId: string, backendChoice: string, onProgress: ProgressCallback): Promise<TrainJobOutcome>;
  /**
   * One trial of a hyper-parameter sweep (src/lib/sweeps): trains a new run grouped under the sweep, or
   * continues an interrupted trial run. `shouldStop` is asked after every epoch (hyperband); a trial
   * stopped that way completes with that epoch's metrics.
   */
  sweepTrial(
    trial: SweepTrialRequest,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
    shouldStop: StopCheck,
  ): Promise<TrainJobOutcome>;
  /**
   * Measures a registered version on the held-out split of a dataset version (its `test` split, else
   * `val`), as the promotion gate needs: metrics named without the `val_` prefix.
   */
  evaluateVersion(version: ModelVersionRow, datasetId: string, backendChoice: string): Promise<Record<string, number>>;
  /**
   * The job a spec describes, for PyTorch DDP on a cluster (lib/workflows/cluster-job.ts): a zip of the
   * dataset version as stored, job.json, the first weights and the Python that trains it.
   */
  exportClusterJob(spec: TrainJobSpec, backendChoice: string, onProgress: ProgressCallback): Promise<Blob>;
  /**
   * Registers the weights an exported job trained (model.safetensors, its metrics.json and job.json) as a
   * new version, after checking job hash, dataset version and every tensor; the dataset version must be here.
   */
  importTrainedWeights(files: { job: string; metrics: string; weights: Uint8Array }, name: string | undefined, backendChoice: string): Promise<{ name: string; version: number; summary: string }>;
  /**
   * Measures a transformers.js text classifier (the sentiment RoBERTa by default) as-is on a dataset's held-out split and registers
   * it as a version (with a run for its lineage).
   */
  registerTransformerBaseline(request: BaselineRequest, backendChoice: string, onProgress: ProgressCallback): Promise<RegisteredOutcome>;
  /** The text quick-train: reproducible subset → train (or measure the baseline) → register → promotion gate. */
  quickTrainText(
    request: QuickTrainRequest,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
  ): Promise<QuickTrainOutcome>;
  /** Stops a running job at its next batch; the run is recorded as cancelled. */
  cancel(runId: string): Promise<void>;
}

// Serving defines the model methods it calls and the memory figures it exports; the worker implements them.
export type { InferenceMemory, LoadedModel };

export interface InferenceApi extends ComputeWorker, InferenceModelApi {
  /** Availability and adapter of every backend in a worker context. */
  probeBackends(): Promise<BackendStatus[]>;
  /**
   * Loads a transformers.js text model (downloading it into the offline cache when needed, reporting
   * each file's bytes) and runs it once on `sample`: the classifier's probabilities, or the encoder's width.
   */
  prepareTextModel(ref: ModelRef, role: TextModelRole, sample: string, onProgress: ProgressCallback): Promise<TextModelInfo>;
  /** tfjs's memory in this worker (read-only, for `GET api/metrics` and soak tests): tensors alive, their bytes, models loaded. */
  memory(): Promise<InferenceMemory>;
}

export interface HashedBytes {
  /** Hex SHA-256 of the content. */
  hash: string;
  bytes: number;
}

export interface IngestApi extends WorkerBase {
  /** Content hash of a buffer; the buffer is transferred, not copied. */
  hashBytes(buffer: ArrayBuffer): Promise<HashedBytes>;
  /**
   * Imports an upload (files, folders, zips) as a new dataset version, reporting progress; resolves
   * with the version and every skipped item with its reason. Rejects with `DatasetValidationError`
   * when the upload as a whole does not fit the task, `ImportCancelledError` after `cancel(jobId)`;
   * either way nothing of it is stored.
   */
  importDataset(request: ImportRequest, onProgress: ProgressCallback): Promise<ImportOutcome>;
  /** Stops an import (or demo install) at its next chunk. Unknown ids are ignored. */
  cancel(jobId: string): Promise<void>;
  /** Generates and stores the built-in demo datasets that are not there yet (idempotent). */
  installDemoData(jobId: string, onProgress: ProgressCallback): Promise<DemoInstallResult>;
  /** A dataset version as a zip that imports back to the same version id. */
  exportDataset(datasetId: string, onProgress: ProgressCallback): Promise<Blob>;
  /** A reproducible train/eval subset of a version, stored as a new version whose parent is the source. */
  createSubset(datasetId: string, options: SubsetOptions): Promise<DatasetRow>;
}
