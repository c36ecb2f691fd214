import type { ModelSpec, TaskName } from '$lib/db/specs';
import { loadFromBlobs } from '$models/io';
import '$models/text/embedding-bag'; // registers the custom layer before any model.json is read
import '$models/text/nbsvm'; // and NB-SVM's
import { COIN_YEAR } from './coin-year';
import { UnknownModelError, UnsupportedModelError } from './errors';
import { IMAGE_CLASSIFICATION } from './image-classification';
import { canonicalTask, TASK_NAMES } from './names';
import { TEXT_CLASSIFICATION } from './text-classification';
import type { LabelPreset, TaskDefinition, TrainableContext, TrainableModel } from './types';

export { UnknownModelError, UnsupportedModelError } from './errors';
export type { ModelSpec } from '$lib/db/specs';
export type { TrainableContext } from './types';
export { canonicalTask, isTaskName, TASK_NAMES, taskOfVersion } from './names';

/** Every task of the studio: one line each (a task is its folder under src/lib/tasks and this line). */
export const TASKS: Record<TaskName, TaskDefinition> = {
  'coin-year': COIN_YEAR,
  'image-classification': IMAGE_CLASSIFICATION,
  'text-classification': TEXT_CLASSIFICATION,
};

/**
 * The definition of a task, by its name or an earlier name of it.
 * @throws UnsupportedModelError naming the valid tasks
 */
export function taskDefinition(name: unknown): TaskDefinition {
  const task = canonicalTask(name);
  if (!task) throw new UnsupportedModelError(`unknown task ${JSON.stringify(name)}; valid: ${TASK_NAMES.join(', ')}`);
  return TASKS[task];
}

/** The task whose architectures include `architecture`, if any. */
export function taskOfArchitecture(architecture: string): TaskDefinition | undefined {
  return Object.values(TASKS).find((t) => (t.architectures as readonly string[]).includes(architecture));
}

/** Builds a fresh trainable model of a task from its spec. */
export function createTrainable(task: TaskName, spec: ModelSpec, context: TrainableContext): TrainableModel {
  const definition = taskDefinition(task);
  if (!(definition.architectures as readonly string[]).includes(spec?.architecture)) {
    const owner = taskOfArchitecture(String(spec?.architecture));
    throw new UnsupportedModelError(
      owner
        ? `model.architecture "${spec.architecture}" is for ${owner.name}, not ${task}`
        : `model.architecture ${JSON.stringify((spec as { architecture?: unknown })?.architecture)} is not supported; valid for ${task}: ${definition.architectures.join(', ')}`,
    );
  }
  return definition.createTrainable(spec, context);
}

/**
 * A saved model (model.json + weight shards, as registered or checkpointed) as a trainable model of
 * its task, read from the `loupe` metadata it carries.
 */
export async function loadTrainable(saved: { modelJson: string; shards: Blob[] }): Promise<TrainableModel> {
  const model = await loadFromBlobs(saved);
  const metadata = (model.getUserDefinedMetadata() as { loupe?: Record<string, unknown> } | undefined)?.loupe;
  const task = canonicalTask(metadata?.task);
  if (!metadata || !task) {
    model.dispose();
    throw new UnknownModelError(`this model carries no Loupe task metadata (userDefinedMetadata.loupe): ${JSON.stringify(metadata)}`);
  }
  try {
    return TASKS[task].loadTrainable(metadata, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * A preset of a task by its id, if the task has it.
 * @example presetOf('text-classification', 'sentiment')?.labels // ['negative', 'neutral', 'positive']
 */
export function presetOf(task: TaskName, id: string | undefined): LabelPreset | undefined {
  return id === undefined ? undefined : TASKS[task].presets.find((p) => p.id === id);
}

/**
 * The model a new run of the task starts from on data of the given preset: the preset's own default where
 * it has one, else the task's.
 * @example defaultModelOf('text-classification', 'sentiment').architecture // 'lexicon-fasttext'
 */
export function defaultModelOf(task: TaskName, preset: string | undefined): ModelSpec {
  return structuredClone(presetOf(task, preset)?.model ?? TASKS[task].defaults.model);
}

/**
 * Whether a model spec's network has BatchNorm layers: every backbone model does (MobileNetV3-Small and
 * ResNet18 normalise after each convolution); the small CNN and the text models do not. A run's
 * `recomputeBatchNorm` means something only for these.
 * @example hasBatchNorm(TASKS['coin-year'].defaults.model) // true
 */
export function hasBatchNorm(spec: ModelSpec): boolean {
  return 'backbone' in spec && spec.backbone !== undefined;
}

/** What a form offers as "Task": each task, and each preset of it that is not the task itself (`car-damage`). */
export interface TaskChoice {
  id: string;
  task: TaskName;
  preset?: string;
  label: string;
}

/**
 * Every task and named preset, as forms list them.
 * @example taskChoices().map((c) => c.id) // ['coin-year', 'image-classification', 'car-damage', 'text-classification', 'sentiment']
 */
export function taskChoices(): readonly TaskChoice[] {
  return TASK_CHOICES;
}

// Built once: serving asks `builtinModelTask` on every request.
const TASK_CHOICES: readonly TaskChoice[] = Object.values(TASKS).flatMap((task) => [
  { id: task.name, task: task.name, label: `${task.title} (${task.summary})` },
  ...task.presets.filter((p) => p.id !== task.name).map((p) => ({ id: p.id, task: task.name, preset: p.id, label: `${p.title} (${p.summary})` })),
]);

/** The choice of an id from `taskChoices`, else undefined. */
export function taskChoice(id: string): TaskChoice | undefined {
  return TASK_CHOICES.find((c) => c.id === id);
}

/**
 * The task a model of this name serves before any version says so: every task's name and every preset's
 * (`car-damage` serves image classification), as the Predict page and `GET api/models` list them.
 */
export function builtinModelTask(name: string): TaskName | undefined {
  return taskChoice(name)?.task;
}
