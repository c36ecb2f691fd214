import * as tf from '@tensorflow/tfjs';
import type { BackendName, ModelVersionRow } from '$lib/db/types';
import { registerPredictorLoader } from '$lib/serving/loaders';
import { loadTrainable, predictInputs } from '$lib/tasks/loaded';
import { TASK_NAMES } from '$lib/tasks/names';

/**
 * Model versions as predictors, for every task; called once in the inference worker.
 * @example registerTaskPredictors(); Comlink.expose(new InferenceService());
 */
export function registerTaskPredictors(): void {
  for (const task of TASK_NAMES) {
    registerPredictorLoader(task, async (version: ModelVersionRow) => {
      if (!version.modelJson || !version.shards) throw new Error(`${version.name} v${version.version} has no stored weights`);
      const trainable = await loadTrainable({ modelJson: version.modelJson, shards: version.shards });
      return {
        task,
        backend: trainable.runtime ?? (tf.getBackend() as BackendName),
        labels: trainable.labels,
        predict: (inputs) => predictInputs(trainable, inputs),
        dispose: async () => trainable.dispose(),
      };
    });
  }
}
