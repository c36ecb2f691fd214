import type { DatasetRow, Split } from '$lib/db/types';

/** Which split a figure was measured on, and on how many samples when the dataset row says. */
export interface SplitNote {
  split: Split;
  samples?: number;
}

/**
 * The split a model's figures on a dataset version come from when measured "held out" (the promotion
 * gate's live evaluator, the CLI's gate): its `test` split when it has samples, else `val` — the choice
 * `evaluateHeldOutSplit` makes, read from the counts stored on the dataset row. Undefined without counts.
 * @example heldOutSplitOf({ splits: { train: 80, val: 10, test: 10 } }) // { split: 'test', samples: 10 }
 */
export function heldOutSplitOf(dataset: Pick<DatasetRow, 'splits'> | undefined): SplitNote | undefined {
  const splits = dataset?.splits;
  if (!splits) return undefined;
  if ((splits.test ?? 0) > 0) return { split: 'test', samples: splits.test };
  if ((splits.val ?? 0) > 0) return { split: 'val', samples: splits.val };
  return undefined;
}

/**
 * The split a training run validated on (its `val_` metrics): `validationSplit`, by default `val`, with
 * the dataset row's count of it when known.
 * @example validationSplitOf({ validationSplit: undefined }, { splits: { val: 18 } }) // { split: 'val', samples: 18 }
 */
export function validationSplitOf(params: { validationSplit?: Split } | undefined, dataset: Pick<DatasetRow, 'splits'> | undefined): SplitNote {
  const split = params?.validationSplit ?? 'val';
  const samples = dataset?.splits?.[split];
  return samples ? { split, samples } : { split };
}

/**
 * A split note as a short label for a figure: `val, 18 samples`; `test` when the count is unknown.
 * @example splitLabel({ split: 'test', samples: 1 }) // 'test, 1 sample'
 */
export function splitLabel(note: SplitNote): string {
  return note.samples === undefined ? note.split : `${note.split}, ${note.samples} sample${note.samples === 1 ? '' : 's'}`;
}

/**
 * A split note inside a sentence: `test split (24 samples)`.
 * @example splitPhrase({ split: 'val' }) // 'val split'
 */
export function splitPhrase(note: SplitNote): string {
  return `${note.split} split${note.samples === undefined ? '' : ` (${note.samples} sample${note.samples === 1 ? '' : 's'})`}`;
}
