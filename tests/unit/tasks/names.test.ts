import { describe, expect, it } from 'vitest';
import { canonicalTask, isTaskName, TASK_NAMES, taskOfVersion } from '../../../src/lib/tasks/names';

describe('task names', () => {
  it('knows the built-in tasks and nothing else', () => {
    expect(isTaskName('coin-year')).toBe(true);
    expect(isTaskName('sentiment')).toBe(true);
    expect(isTaskName('coins')).toBe(false);
    expect(isTaskName(undefined)).toBe(false);
  });

  it('reads a version’s task from its tag, then its lineage, then its name', () => {
    expect(taskOfVersion({ name: 'sentiment', tags: { task: 'coin-year' }, lineage: { task: 'image-classification' } })).toBe('coin-year');
    expect(taskOfVersion({ name: 'sentiment', lineage: { task: 'image-classification' } })).toBe('image-classification');
    expect(taskOfVersion({ name: 'sentiment' })).toBe('sentiment');
    expect(taskOfVersion({ name: 'my-model', tags: { task: 'nope' } })).toBeUndefined();
    expect(taskOfVersion({ name: 'my-model' })).toBeUndefined();
  });

  it('serves image classification from a model registered under the earlier task name car-damage', () => {
    expect(taskOfVersion({ name: 'car-damage' })).toBe('image-classification');
    expect(taskOfVersion({ name: 'car-damage', tags: { task: 'car-damage' } })).toBe('image-classification');
    expect(taskOfVersion({ name: 'car-damage', tags: { task: 'sentiment' } })).toBe('sentiment');
  });

  it('maps earlier task names to the current ones, and only those', () => {
    expect(TASK_NAMES).toEqual(['coin-year', 'image-classification', 'sentiment']);
    expect(isTaskName('image-classification')).toBe(true);
    expect(isTaskName('car-damage')).toBe(false);
    expect(canonicalTask('car-damage')).toBe('image-classification');
    for (const task of TASK_NAMES) expect(canonicalTask(task)).toBe(task);
    expect(canonicalTask('coins')).toBeUndefined();
    expect(canonicalTask('toString')).toBeUndefined();
    expect(canonicalTask(undefined)).toBeUndefined();
  });
});
