import { describe, expect, it } from 'vitest';
import { canonicalTask, isTaskName, TASK_NAMES, taskOfVersion } from '../../../src/lib/tasks/names';

describe('task names', () => {
  it('knows the built-in tasks and nothing else', () => {
    expect(isTaskName('coin-year')).toBe(true);
    expect(isTaskName('text-classification')).toBe(true);
    expect(isTaskName('coins')).toBe(false);
    expect(isTaskName(undefined)).toBe(false);
  });

  it('reads a version’s task from its tag, then its lineage, then its name', () => {
    expect(taskOfVersion({ name: 'sentiment', tags: { task: 'coin-year' }, lineage: { task: 'image-classification' } })).toBe('coin-year');
    expect(taskOfVersion({ name: 'sentiment', lineage: { task: 'image-classification' } })).toBe('image-classification');
    expect(taskOfVersion({ name: 'text-classification' })).toBe('text-classification');
    expect(taskOfVersion({ name: 'my-model', tags: { task: 'nope' } })).toBeUndefined();
    expect(taskOfVersion({ name: 'my-model' })).toBeUndefined();
  });

  it('serves image classification from a model registered under the earlier task name car-damage', () => {
    expect(taskOfVersion({ name: 'car-damage' })).toBe('image-classification');
    expect(taskOfVersion({ name: 'car-damage', tags: { task: 'car-damage' } })).toBe('image-classification');
    expect(taskOfVersion({ name: 'car-damage', tags: { task: 'text-classification' } })).toBe('text-classification');
  });

  it('serves text classification from a model registered under the earlier task name sentiment', () => {
    expect(taskOfVersion({ name: 'sentiment' })).toBe('text-classification');
    expect(taskOfVersion({ name: 'tweets', tags: { task: 'sentiment' } })).toBe('text-classification');
    expect(taskOfVersion({ name: 'tweets', lineage: { task: 'sentiment' as never } })).toBe('text-classification');
  });

  it('maps earlier task names to the current ones, and only those', () => {
    expect(TASK_NAMES).toEqual(['coin-year', 'image-classification', 'text-classification']);
    expect(isTaskName('image-classification')).toBe(true);
    expect(isTaskName('car-damage')).toBe(false);
    expect(isTaskName('sentiment')).toBe(false);
    expect(canonicalTask('car-damage')).toBe('image-classification');
    expect(canonicalTask('sentiment')).toBe('text-classification');
    for (const task of TASK_NAMES) expect(canonicalTask(task)).toBe(task);
    expect(canonicalTask('coins')).toBeUndefined();
    expect(canonicalTask('toString')).toBeUndefined();
    expect(canonicalTask(undefined)).toBeUndefined();
  });
});
