import { describe, expect, it } from 'vitest';
import { isTaskName, taskOfVersion } from '../../../src/lib/tasks/names';

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
  });
});
