import type { BackendInfo, BackendStatus } from '$lib/backends/tfjs';
import type { TrainJobSpec } from '$lib/training/job';
import type { ProgressCallback } from './progress';

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
  /** Stops a running job at its next batch; the run is recorded as cancelled. */
  cancel(runId: string): Promise<void>;
}

export interface InferenceApi extends ComputeWorker {
  /** Availability and adapter of every backend in a worker context. */
  probeBackends(): Promise<BackendStatus[]>;
}

export interface HashedBytes {
  /** Hex SHA-256 of the content. */
  hash: string;
  bytes: number;
}

export interface IngestApi extends WorkerBase {
  /** Content hash of a buffer; the buffer is transferred, not copied. */
  hashBytes(buffer: ArrayBuffer): Promise<HashedBytes>;
}
