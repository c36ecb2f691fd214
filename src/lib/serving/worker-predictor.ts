import type { ModelVersionRow } from '$lib/db/types';
import type { InferenceModelApi, Predictor, PredictorFactory } from './types';

/**
 * Predictors that run in the inference worker: loading sends the version (its weights are Blobs,
 * passed by reference) to the worker; the page keeps only a key. `api` is called for every use, so a
 * restarted worker is reached (it answers `ModelNotLoadedError`, and the SDK reloads).
 * @example new ServingSdk({ db, predictors: workerPredictorFactory(() => workers().inference.api(), async () => 'auto') })
 */
export function workerPredictorFactory(api: () => InferenceModelApi, backendChoice: () => Promise<string>): PredictorFactory {
  return async (version: ModelVersionRow): Promise<Predictor> => {
    const loaded = await api().loadModel(version, await backendChoice());
    return {
      task: loaded.task,
      backend: loaded.backend,
      labels: loaded.labels,
      predict: (inputs) => api().predict(loaded.key, inputs),
      dispose: () => api().unloadModel(loaded.key),
    };
  };
}
