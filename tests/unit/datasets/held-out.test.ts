import { describe, expect, it } from 'vitest';
import { heldOutSplitOf, splitLabel, splitPhrase, validationSplitOf } from '$lib/datasets/held-out';

describe('held-out split notes', () => {
  it('names the split the gate measures: test when the dataset has one, else val, with its size', () => {
    expect(heldOutSplitOf({ splits: { train: 80, val: 10, test: 12 } })).toEqual({ split: 'test', samples: 12 });
    expect(heldOutSplitOf({ splits: { train: 80, val: 10, test: 0 } })).toEqual({ split: 'val', samples: 10 });
    expect(heldOutSplitOf({ splits: { train: 80 } })).toBeUndefined();
    expect(heldOutSplitOf({})).toBeUndefined();
  });

  it("names a run's validation split, with its size where the dataset row knows it", () => {
    expect(validationSplitOf({}, { splits: { val: 18 } })).toEqual({ split: 'val', samples: 18 });
    expect(validationSplitOf({ validationSplit: 'test' }, { splits: { val: 18, test: 7 } })).toEqual({ split: 'test', samples: 7 });
    expect(validationSplitOf(undefined, undefined)).toEqual({ split: 'val' });
  });

  it('reads as a label and inside a sentence', () => {
    expect(splitLabel({ split: 'val', samples: 18 })).toBe('val, 18 samples');
    expect(splitLabel({ split: 'test', samples: 1 })).toBe('test, 1 sample');
    expect(splitLabel({ split: 'val' })).toBe('val');
    expect(splitPhrase({ split: 'test', samples: 24 })).toBe('test split (24 samples)');
    expect(splitPhrase({ split: 'val' })).toBe('val split');
  });
});
