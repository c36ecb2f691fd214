import { describe, expect, it } from 'vitest';
import { gateMeasuredOn, RECORDED_METRICS } from '$lib/registry/evaluators';
import { heldOutSplit } from '$lib/registry/gate';

describe('where registry figures come from', () => {
  it("a version's listed metrics are its validation figures when it recorded val_ metrics", () => {
    expect(heldOutSplit({ val_mae: 36, mae: 20 })).toBe('val');
    expect(heldOutSplit({ mae: 34.67 })).toBeUndefined();
  });

  it("a live gate measured the evaluation set's held-out split; recorded metrics name none", () => {
    expect(gateMeasuredOn('measured in the trainer worker on the held-out split (test, else val)', { splits: { train: 10, val: 4, test: 3 } })).toEqual({ split: 'test', samples: 3 });
    expect(gateMeasuredOn(RECORDED_METRICS.label, { splits: { val: 4 } })).toBeUndefined();
    expect(gateMeasuredOn(undefined, { splits: { val: 4 } })).toBeUndefined();
  });
});
