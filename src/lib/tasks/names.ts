import { RENAMED_TASKS, TASK_NAMES, type TaskName } from '$lib/db/specs';
import type { ModelVersionRow } from '$lib/db/types';

/**
 * Task names without the task plug-ins (no tfjs): what the registry, serving, monitoring and the CLI
 * need to tell which task a model serves. `TASKS` in ./registry has one entry per name.
 */

export { TASK_NAMES };

export function isTaskName(value: unknown): value is TaskName {
  return (TASK_NAMES as readonly unknown[]).includes(value);
}

/**
 * A task's name as this version calls it, for names read from older data (bundles, model.json, exports);
 * undefined if unknown.
 * @example canonicalTask('car-damage') // 'image-classification'
 */
export function canonicalTask(name: unknown): TaskName | undefined {
  if (isTaskName(name)) return name;
  return typeof name === 'string' && Object.hasOwn(RENAMED_TASKS, name) ? RENAMED_TASKS[name] : undefined;
}

/**
 * The task a registered version serves: its `task` tag, else `lineage.task`, else its name when that
 * is a task's (earlier names included: a model named `car-damage` serves image classification).
 * Undefined when none says.
 * @example taskOfVersion({ name: 'coins', tags: { task: 'coin-year' } }) // 'coin-year'
 */
export function taskOfVersion(row: Pick<ModelVersionRow, 'name' | 'tags' | 'lineage'>): TaskName | undefined {
  for (const candidate of [row.tags?.task, row.lineage?.task, row.name]) {
    const task = canonicalTask(candidate);
    if (task) return task;
  }
  return undefined;
}
