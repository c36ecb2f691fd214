import type { ModelVersionRow, TaskName } from '$lib/db/types';
import { taskOfVersion } from '$lib/tasks/names';
import type { Predictor, PredictorFactory } from './types';

/**
 * Worker side: how a registered version of each task becomes a `Predictor` (weights → tfjs model,
 * plus the task's pre- and post-processing). The task plug-ins register these; serving itself holds
 * no model code.
 */
const loaders = new Map<TaskName, PredictorFactory>();

export class NoPredictorError extends Error {
  override name = 'NoPredictorError';
}

/**
 * Registers the predictor loader of a task (replacing any earlier one).
 * @example registerPredictorLoader('sentiment', async (version) => fastTextPredictor(version))
 */
export function registerPredictorLoader(task: TaskName, loader: PredictorFactory): void {
  loaders.set(task, loader);
}

/** Loads a version with its task's loader. */
export async function loadPredictor(version: ModelVersionRow): Promise<Predictor> {
  const task = taskOfVersion(version);
  if (!task) throw new NoPredictorError(`${version.name} v${version.version} does not say which task it serves (tag "task" or lineage.task)`);
  const loader = loaders.get(task);
  if (!loader) {
    throw new NoPredictorError(`Loupe cannot serve ${task} models yet: no predictor is registered for the ${task} task (registerPredictorLoader)`);
  }
  return loader(version);
}
