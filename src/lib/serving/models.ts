import type { ModelVersionRow, TaskName } from '$lib/db/types';
import { canonicalTask, isTaskName } from '$lib/tasks/registry';

export { isTaskName };

/**
 * The task a registered version serves: its `task` tag, else `lineage.task`, else its name when that
 * is a task's (earlier names of tasks included: `car-damage` serves image classification). Undefined
 * when none says.
 */
export function taskOfVersion(row: Pick<ModelVersionRow, 'name' | 'tags' | 'lineage'>): TaskName | undefined {
  for (const candidate of [row.tags?.task, row.lineage?.task, row.name]) {
    const task = canonicalTask(candidate);
    if (task) return task;
  }
  return undefined;
}

/** Cache key of a loaded version. */
export const versionKey = (model: string, version: number) => `${model}@${version}`;
