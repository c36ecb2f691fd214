import type { ModelVersionRow, TaskName } from '$lib/db/types';

/**
 * Task names without the task plug-ins (no tfjs): what the registry, serving, monitoring and the CLI
 * need to tell which task a model serves.
 */

/** The studio's built-in tasks; a registered model named like one serves that task. */
export const BUILTIN_TASKS: readonly TaskName[] = ['coin-year', 'car-damage', 'sentiment'];

export function isTaskName(value: unknown): value is TaskName {
  return (BUILTIN_TASKS as readonly unknown[]).includes(value);
}

/**
 * The task a registered version serves: its `task` tag, else `lineage.task`, else its name when that
 * is a built-in task's. Undefined when none says.
 * @example taskOfVersion({ name: 'coins', tags: { task: 'coin-year' } }) // 'coin-year'
 */
export function taskOfVersion(row: Pick<ModelVersionRow, 'name' | 'tags' | 'lineage'>): TaskName | undefined {
  for (const candidate of [row.tags?.task, row.lineage?.task, row.name]) if (isTaskName(candidate)) return candidate;
  return undefined;
}
