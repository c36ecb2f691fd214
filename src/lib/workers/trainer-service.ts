import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, isSoftwareRenderer } from '$lib/backends/resolve';
import { forgetBackend, useBackend, type BackendInfo } from '$lib/backends/tfjs';
import { DeviceLostError } from '$lib/training/failures';
import { evaluateHeldOut } from '$lib/training/evaluate';
import { loadTrainable } from '$lib/tasks/loaded';
import type { BackendName, ModelVersionRow } from '$lib/db/types';
import { getDb } from '$lib/db/db';
import type { TrainableModel } from '$lib/tasks/types';
import { resumeTrainJob, runKFold, runTrainJob, type TrainJobContext, type TrainJobSpec } from '$lib/training/job';
import { releaseRemote } from './client';
import type { ProgressCallback } from '$lib/progress';
import type { SweepTrialRequest, TrainerApi, TrainingCheckResult, TrainJobOutcome, WorkerHello } from './types';
import type { StopCheck } from '$lib/training/loop';
import { APP_VERSION } from '$lib/version';
import { registerTransformerBaseline, type BaselineRequest } from '$lib/workflows/baseline';
import { quickTrainText, type QuickTrainRequest } from '$lib/workflows/quick-train';
import { initialWeightsResolver } from '$lib/workflows/initial-weights';
import { browserWeightCache } from '$lib/weights/cache';
import { zipSync } from 'fflate';
import { buildClusterJob, ClusterJobError, importTrainedWeights, parseClusterJob, type ClusterMetricsFile } from '$lib/workflows/cluster-job';
import { clusterSources } from './cluster-sources';

/**
 * Where a run whose device was lost continues: the next backend in order that starts, passing over a GPU
 * backend on a software renderer as `auto` does (WebGL on SwiftShader trains 15–30× slower than wasm),
 * and the cpu as the last resort.
 */
async function fallbackAfter(lost: BackendName): Promise<BackendInfo> {
  for (const candidate of BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(lost) + 1)) {
    const info = await useBackend(candidate).catch(() => undefined);
    if (info && !((candidate === 'webgpu' || candidate === 'webgl') && isSoftwareRenderer(info.adapter))) return info;
  }
  return useBackend('cpu');
}

/** The trainer worker's implementation; `workers/trainer.ts` exposes it with comlink. */
export class TrainerService implements TrainerApi {
  #running = new Map<string, AbortController>();

  async hello(): Promise<WorkerHello> {
    return { worker: 'trainer', appVersion: APP_VERSION };
  }

  useBackend(choice: string) {
    return useBackend(choice);
  }

  async checkTraining(choice: string, steps: number, onProgress: ProgressCallback): Promise<TrainingCheckResult> {
    try {
      const backend = await useBackend(choice);
      const result = await fitLine(steps, onProgress);
      onProgress({ kind: 'done', summary: { finalLoss: result.finalLoss } });
      return { backend, steps, ...result };
    } catch (error) {
      onProgress({ kind: 'failed', reason: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      releaseRemote(onProgress);
    }
  }

  train(
    spec: TrainJobSpec,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
  ): Promise<TrainJobOutcome> {
    return this.#run(backendChoice, onProgress, onRunCreated, (context) => runTrainJob(getDb(), spec, context));
  }

  crossValidate(
    spec: TrainJobSpec,
    k: number,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
  ): Promise<TrainJobOutcome> {
    return this.#run(backendChoice, onProgress, onRunCreated, (context) => runKFold(getDb(), spec, k, context));
  }

  resume(runId: string, backendChoice: string, onProgress: ProgressCallback): Promise<TrainJobOutcome> {
    return this.#run(backendChoice, onProgress, () => {}, (context) => resumeTrainJob(getDb(), runId, context));
  }

  async sweepTrial(
    trial: SweepTrialRequest,
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
    shouldStop: StopCheck,
  ): Promise<TrainJobOutcome> {
    try {
      return await this.#run(
        backendChoice,
        onProgress,
        onRunCreated,
        (context) =>
          trial.kind === 'start'
            ? runTrainJob(getDb(), trial.spec, { ...context, parentId: trial.sweepId })
            : resumeTrainJob(getDb(), trial.runId, context),
        { shouldStop },
      );
    } finally {
      releaseRemote(shouldStop);
    }
  }

  async #run(
    backendChoice: string,
    onProgress: ProgressCallback,
    onRunCreated: (runId: string) => void,
    job: (context: TrainJobContext) => Promise<{ runId: string; metrics: Record<string, number>; trainable?: TrainableModel }>,
    extra: Pick<TrainJobContext, 'shouldStop'> = {},
  ): Promise<TrainJobOutcome> {
    const controller = new AbortController();
    let runId: string | undefined;
    const context = (backend: BackendInfo): TrainJobContext => ({
      ...extra,
      backend,
      onProgress,
      signal: controller.signal,
      initialWeights: initialWeightsResolver(getDb(), { cache: browserWeightCache(), onProgress, signal: controller.signal }),
      onRunCreated: (created) => {
        runId = created;
        this.#running.set(created, controller);
        onRunCreated(created);
      },
    });
    try {
      let backend = await useBackend(backendChoice);
      let attempt = job;
      for (;;) {
        try {
          const { runId: id, metrics, trainable } = await attempt(context(backend));
          trainable?.dispose();
          return { runId: id, metrics };
        } catch (error) {
          // A lost GPU device is not the run's fault: continue from the checkpoint on the next backend.
          if (!(error instanceof DeviceLostError) || !runId) throw error;
          if (error.backend === 'cpu') throw error;
          const lost = error.backend;
          await forgetBackend(lost);
          backend = await fallbackAfter(lost);
          onProgress({ kind: 'log', level: 'warn', message: `${error.message} Continuing on ${backend.backend}.` });
          const resumedRun = runId;
          const before = (await getDb().runs.get(resumedRun))?.fallbacks ?? [];
          await getDb().runs.update(resumedRun, { fallbacks: [...before, { from: lost, to: backend.backend, at: Date.now() }] });
          attempt = (ctx) => resumeTrainJob(getDb(), resumedRun, ctx);
        }
      }
    } finally {
      if (runId) this.#running.delete(runId);
      releaseRemote(onProgress);
      releaseRemote(onRunCreated);
    }
  }

  async evaluateVersion(version: ModelVersionRow, datasetId: string, backendChoice: string): Promise<Record<string, number>> {
    await useBackend(backendChoice);
    if (!version.modelJson || !version.shards) throw new Error(`${version.name} v${version.version} has no stored weights`);
    const trainable = await loadTrainable({ modelJson: version.modelJson, shards: version.shards });
    try {
      return await evaluateHeldOut(getDb(), trainable, datasetId);
    } finally {
      trainable.dispose();
    }
  }

  async exportClusterJob(spec: TrainJobSpec, backendChoice: string, onProgress: ProgressCallback): Promise<Blob> {
    try {
      await useBackend(backendChoice);
      const { files } = await buildClusterJob(getDb(), spec, {
        sources: await clusterSources(),
        initialWeights: initialWeightsResolver(getDb(), { cache: browserWeightCache(), onProgress }),
      });
      return new Blob([zipSync(files, { level: 0 })], { type: 'application/zip' });
    } finally {
      releaseRemote(onProgress);
    }
  }

  async importTrainedWeights(files: { job: string; metrics: string; weights: Uint8Array }, name: string | undefined, backendChoice: string) {
    await useBackend(backendChoice);
    const job = await parseClusterJob(files.job);
    let metrics: ClusterMetricsFile;
    try {
      metrics = JSON.parse(files.metrics) as ClusterMetricsFile;
    } catch (error) {
      throw new ClusterJobError(`metrics.json is not valid JSON (${(error as Error).message})`);
    }
    const dataset = await getDb().datasets.get(job.datasetVersion);
    if (!dataset) throw new ClusterJobError(`this studio has no dataset version ${job.datasetVersion.slice(0, 12)}…, which the job was trained on: import the job's dataset/ folder on the Datasets page first`);
    const { row, trainable } = await importTrainedWeights(getDb(), { job, weights: files.weights, metrics, dataset, name: name ?? dataset.preset ?? job.spec.task });
    trainable.dispose();
    return { name: row.name, version: row.version, summary: row.lineage?.trainedBy?.summary ?? '' };
  }

  async registerTransformerBaseline(request: BaselineRequest, backendChoice: string, onProgress: ProgressCallback) {
    try {
      const backend = await useBackend(backendChoice);
      return await registerTransformerBaseline(getDb(), request, { backend, onProgress });
    } finally {
      releaseRemote(onProgress);
    }
  }

  async quickTrainText(request: QuickTrainRequest, backendChoice: string, onProgress: ProgressCallback, onRunCreated: (runId: string) => void) {
    const controller = new AbortController();
    const runIds: string[] = [];
    try {
      const backend = await useBackend(backendChoice);
      return await quickTrainText(getDb(), request, {
        backend,
        onProgress,
        signal: controller.signal,
        onRunCreated: (runId) => {
          runIds.push(runId);
          this.#running.set(runId, controller);
          onRunCreated(runId);
        },
      });
    } finally {
      for (const runId of runIds) this.#running.delete(runId);
      releaseRemote(onProgress);
      releaseRemote(onRunCreated);
    }
  }

  async cancel(runId: string): Promise<void> {
    this.#running.get(runId)?.abort();
  }
}

/**
 * Fits y = 2x + 1 by gradient descent. Reads the loss back only every few steps (a read forces a GPU
 * sync) and checks the first gradient, which WebGPU has been seen to return as all zeros. The update is
 * written out rather than using `tf.train.sgd`, whose learning-rate scalar outlives `dispose()`.
 */
async function fitLine(steps: number, onProgress: ProgressCallback) {
  const learningRate = 0.05;
  const xs = tf.tensor2d([-1, 0, 1, 2, 3, 4], [6, 1]);
  const ys = tf.tensor2d([-1, 1, 3, 5, 7, 9], [6, 1]);
  // tidy() disposes the zero tensors the variables were made from; the variables keep the data alive.
  const [w, b] = tf.tidy(() => [tf.variable(tf.zeros([1, 1])), tf.variable(tf.zeros([1]))]);
  const lossOf = () => tf.losses.meanSquaredError(ys, tf.add(tf.matMul(xs, w), b)) as tf.Scalar;
  const step = () => {
    const { value, grads } = tf.variableGrads(lossOf, [w, b]);
    tf.tidy(() => {
      for (const variable of [w, b]) variable.assign(tf.sub(variable, tf.mul(grads[variable.name]!, learningRate)));
    });
    return { value, grads };
  };
  try {
    const first = step();
    const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(first.grads).map((g) => tf.sum(tf.square(g))))));
    const [initialLoss = NaN] = await first.value.data();
    const [firstGradientNorm = NaN] = await norm.data();
    tf.dispose([first.value, norm, ...Object.values(first.grads)]);
    if (!Number.isFinite(firstGradientNorm) || firstGradientNorm === 0) {
      throw new Error(`the first gradient norm is ${firstGradientNorm}: this backend computes no usable gradients`);
    }
    let finalLoss = initialLoss;
    const reportEvery = Math.max(1, Math.floor(steps / 10));
    for (let i = 2; i <= steps; i++) {
      const { value, grads } = step();
      tf.dispose(Object.values(grads));
      if (i % reportEvery === 0 || i === steps) {
        [finalLoss = NaN] = await value.data();
        onProgress({ kind: 'batch', epoch: 1, batch: i, batches: steps, loss: finalLoss });
      }
      value.dispose();
    }
    return { initialLoss, finalLoss, firstGradientNorm };
  } finally {
    tf.dispose([xs, ys, w, b]);
  }
}
