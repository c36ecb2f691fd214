import * as tf from '@tensorflow/tfjs';
import { probeAllBackends, useBackend } from '$lib/backends/tfjs';
import type { ModelVersionRow } from '$lib/db/types';
import { loadPredictor } from '$lib/serving/loaders';
import { versionKey } from '$lib/serving/models';
import type { Predictor, PredictorFactory, ServingInput } from '$lib/serving/types';
import { APP_VERSION } from '$lib/version';
import type { InferenceApi, InferenceMemory, LoadedModel, WorkerHello } from './types';
import { prepareTextModel, type TextModelRole } from '$lib/text/encoder/service';
import type { ModelRef } from '$lib/text/encoder/source';
import { releaseRemote } from './client';
import type { ProgressCallback } from '$lib/progress';

export class ModelNotLoadedError extends Error {
  override name = 'ModelNotLoadedError';
}

/** The inference worker's implementation; `workers/inference.ts` exposes it with comlink. */
export class InferenceService implements InferenceApi {
  #choice = 'auto';
  #loader: PredictorFactory;
  #models = new Map<string, Promise<Predictor>>();

  /** @param loader turns a version into a predictor; by default the task plug-ins' loaders. */
  constructor(loader: PredictorFactory = loadPredictor) {
    this.#loader = loader;
  }

  async hello(): Promise<WorkerHello> {
    return { worker: 'inference', appVersion: APP_VERSION };
  }

  useBackend(choice: string) {
    this.#choice = choice;
    return useBackend(choice);
  }

  probeBackends() {
    return probeAllBackends(this.#choice);
  }

  async loadModel(version: ModelVersionRow, backendChoice: string): Promise<LoadedModel> {
    await this.useBackend(backendChoice);
    const key = versionKey(version.name, version.version);
    let loading = this.#models.get(key);
    if (!loading) {
      loading = this.#loader(version);
      this.#models.set(key, loading);
      loading.catch(() => this.#models.delete(key));
    }
    const predictor = await loading;
    return { key, task: predictor.task, backend: predictor.backend, labels: predictor.labels ? [...predictor.labels] : undefined };
  }

  async predict(key: string, inputs: ServingInput[]) {
    const loading = this.#models.get(key);
    if (!loading) throw new ModelNotLoadedError(`${key} is not loaded in the inference worker (it may have restarted); load it again`);
    return (await loading).predict(inputs);
  }

  async prepareTextModel(ref: ModelRef, role: TextModelRole, sample: string, onProgress: ProgressCallback) {
    try {
      return await prepareTextModel(ref, role, sample, onProgress);
    } finally {
      releaseRemote(onProgress);
    }
  }

  async memory(): Promise<InferenceMemory> {
    const { numTensors, numBytes } = tf.memory();
    return { numTensors, numBytes, models: this.#models.size };
  }

  async unloadModel(key: string): Promise<void> {
    const loading = this.#models.get(key);
    this.#models.delete(key);
    await (await loading?.catch(() => undefined))?.dispose();
  }
}
