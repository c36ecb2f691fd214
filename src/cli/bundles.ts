import type { TaskName } from '$lib/db/types';
import { readBundle, type ParsedBundle } from '$lib/registry/bundle';
import { loadTrainable } from '$lib/tasks/loaded';
import type { TrainableModel } from '$lib/tasks/types';
import { taskOfVersion } from '$lib/tasks/names';
import { BadFormatError, WrongTaskError } from './errors';
import { readInputFile } from './files';

/** A model bundle read from disk and checked completely (the studio's `readBundle`), with its task. */
export interface BundleFile {
  path: string;
  bundle: ParsedBundle;
  task: TaskName;
}

/**
 * Reads and checks a bundle file; errors name the file and what is wrong in it.
 * @example const { bundle, task } = await readBundleFile('model.zip', '--model');
 */
export async function readBundleFile(path: string, option: string): Promise<BundleFile> {
  const bytes = await readInputFile(path, option);
  let bundle: ParsedBundle;
  try {
    bundle = await readBundle(bytes);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new BadFormatError(`${option} ${path} is not a usable Loupe model bundle: ${message}`);
  }
  const task = taskOfVersion({ name: bundle.name, tags: bundle.tags, lineage: bundle.lineage });
  if (!task) throw new BadFormatError(`${option} ${path}: the bundle does not say which task it serves (tag "task" or lineage.json "task")`);
  return { path, bundle, task };
}

/** The bundle's model, ready to predict or evaluate (dispose it when done). */
export async function loadBundleModel(file: BundleFile): Promise<TrainableModel> {
  try {
    const trainable = await loadTrainable({ modelJson: file.bundle.modelJson, shards: file.bundle.shards });
    if (trainable.task.name !== file.task) {
      trainable.dispose();
      throw new WrongTaskError(`${file.path}: the bundle is tagged ${file.task} but its model.json is a ${trainable.task.name} model`);
    }
    return trainable;
  } catch (error) {
    if (error instanceof WrongTaskError) throw error;
    throw new BadFormatError(`${file.path}: the weights do not load as a Loupe model (${error instanceof Error ? error.message : String(error)})`);
  }
}
