import type { Split } from '$lib/db/types';
import { rng, shuffled } from './random';
import type { SplitFractions } from './types';

/**
 * Seeded, reproducible split assignment. Every function here sorts its input by key first, so the
 * result depends only on the set of (key, label) pairs and the seed — not on the order files arrived
 * in — and the same upload always gets the same splits (and so the same dataset version id).
 */

export interface SplitItem {
  /** A stable identity: the sample's content hash. */
  key: string;
  label: string | number;
}

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.8, val: 0.1, test: 0.1 };
/** Years are stratified by bins of this many years (decades). */
export const DEFAULT_YEAR_BIN = 10;

/** The stratum of a label: the class itself, or the bin of a year (`1860s` for 1862 with bins of 10). */
export function stratumOf(label: string | number, yearBin = DEFAULT_YEAR_BIN): string {
  if (typeof label === 'number') return `${Math.floor(label / yearBin) * yearBin}s`;
  return label;
}

function strata<T extends SplitItem>(items: readonly T[], yearBin: number): Map<string, T[]> {
  const byStratum = new Map<string, T[]>();
  for (const item of [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const key = stratumOf(item.label, yearBin);
    let list = byStratum.get(key);
    if (!list) byStratum.set(key, (list = []));
    list.push(item);
  }
  return new Map([...byStratum.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function checkFractions(f: SplitFractions): void {
  const sum = f.train + f.val + f.test;
  if ([f.train, f.val, f.test].some((x) => !(x >= 0)) || Math.abs(sum - 1) > 1e-9) {
    throw new RangeError(`split fractions must be ≥ 0 and sum to 1, got train ${f.train}, val ${f.val}, test ${f.test}`);
  }
}

/**
 * Assigns train/val/test, stratified: each class (or year bin) is shuffled with its own seeded
 * generator and cut by the fractions. Rounding is carried across strata so the overall counts match
 * the fractions as closely as whole samples allow.
 * @example assignSplits(items, { seed: 42 }).get(hash) // 'train'
 */
export function assignSplits(
  items: readonly SplitItem[],
  options: { seed: number; fractions?: SplitFractions; yearBin?: number; stratify?: boolean },
): Map<string, Split> {
  const fractions = options.fractions ?? DEFAULT_FRACTIONS;
  checkFractions(fractions);
  const groups = options.stratify === false ? new Map([['all', [...items].sort((a, b) => (a.key < b.key ? -1 : 1))]]) : strata(items, options.yearBin ?? DEFAULT_YEAR_BIN);
  const out = new Map<string, Split>();
  let seen = 0;
  let trainSoFar = 0;
  let trainValSoFar = 0;
  for (const [stratum, members] of groups) {
    seen += members.length;
    const trainTarget = Math.round(seen * fractions.train) - trainSoFar;
    const trainValTarget = Math.round(seen * (fractions.train + fractions.val)) - trainValSoFar;
    const nTrain = Math.min(members.length, Math.max(0, trainTarget));
    const nTrainVal = Math.min(members.length, Math.max(nTrain, trainValTarget));
    trainSoFar += nTrain;
    trainValSoFar += nTrainVal;
    shuffled(members, rng(options.seed, 'split', stratum)).forEach((item, i) => {
      out.set(item.key, i < nTrain ? 'train' : i < nTrainVal ? 'val' : 'test');
    });
  }
  return out;
}

/**
 * K-fold assignment, stratified: each stratum is shuffled (seeded) and dealt round-robin, continuing
 * the deal across strata so fold sizes differ by at most one. Folds are disjoint and cover every item.
 */
export function assignFolds(items: readonly SplitItem[], k: number, seed: number, yearBin = DEFAULT_YEAR_BIN): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k-fold needs k ≥ 2, got ${k} (k must be a whole number)`);
  if (items.length < k) throw new RangeError(`k-fold with k = ${k} needs at least ${k} samples, got ${items.length}`);
  const out = new Map<string, number>();
  let next = 0;
  for (const [stratum, members] of strata(items, yearBin)) {
    for (const item of shuffled(members, rng(seed, 'fold', stratum))) out.set(item.key, next++ % k);
  }
  return out;
}

/** Draws `size` items stratified (largest remainder per stratum), seeded; all of them when there are fewer. */
export function stratifiedSample<T extends SplitItem>(items: readonly T[], size: number, seed: number, purpose: string, yearBin = DEFAULT_YEAR_BIN): T[] {
  if (size >= items.length) return [...items].sort((a, b) => (a.key < b.key ? -1 : 1));
  const groups = [...strata(items, yearBin)];
  const exact = groups.map(([, members]) => (members.length * size) / items.length);
  const counts = exact.map(Math.floor);
  let left = size - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  return groups.flatMap(([stratum, members], i) => shuffled(members, rng(seed, purpose, stratum)).slice(0, counts[i]));
}

export interface SubsetOptions {
  trainSize: number;
  evalSize: number;
  seed: number;
}

export const DEFAULT_SUBSET: SubsetOptions = { trainSize: 1000, evalSize: 200, seed: 42 };

/**
 * Subset sizes clamped to what a dataset holds (its split counts), with a sentence saying so when they
 * were: `pickSubset` would quietly take fewer, and the form should show what will really be drawn.
 * @example clampSubset(DEFAULT_SUBSET, { train: 210, val: 45, test: 45 }).options // { trainSize: 210, evalSize: 45, seed: 42 }
 */
export function clampSubset(options: SubsetOptions, splits: Partial<Record<Split, number>>): { options: SubsetOptions; note?: string } {
  // A dataset row without split counts (written before they were recorded) says nothing to clamp against.
  if (Object.keys(splits).length === 0) return { options };
  const trainAvailable = splits.train ?? 0;
  const trainSize = Math.min(options.trainSize, trainAvailable);
  // Eval comes from val, else test, else the train items the train subset left (as pickSubset draws it).
  const [evalFrom, evalAvailable] = splits.val ? ['val', splits.val] : splits.test ? ['test', splits.test] : ['train', Math.max(0, trainAvailable - trainSize)];
  const evalSize = Math.min(options.evalSize, evalAvailable);
  if (trainSize === options.trainSize && evalSize === options.evalSize) return { options };
  const total = Object.values(splits).reduce((n, c) => n + (c ?? 0), 0);
  return {
    options: { ...options, trainSize, evalSize },
    note: `The dataset has ${total} samples (${trainAvailable} train, ${evalAvailable} ${evalFrom === 'train' ? 'train left for eval' : evalFrom}): sizes clamped to ${trainSize} train / ${evalSize} eval.`,
  };
}

/**
 * A reproducible subset: `trainSize` items of the train split and `evalSize` of the validation split
 * (the test split when there is no validation split; the rest of train when there is neither), each
 * stratified by label. Same items + same options ⇒ same subset.
 * @returns keys of the chosen train and eval items
 */
export function pickSubset(items: readonly (SplitItem & { split: Split })[], options: SubsetOptions): { train: string[]; eval: string[]; evalFrom: Split } {
  for (const [name, value] of Object.entries({ trainSize: options.trainSize, evalSize: options.evalSize })) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${value}`);
  }
  const train = items.filter((i) => i.split === 'train');
  const evalFrom: Split = items.some((i) => i.split === 'val') ? 'val' : items.some((i) => i.split === 'test') ? 'test' : 'train';
  const chosenTrain = stratifiedSample(train, options.trainSize, options.seed, 'subset-train');
  const taken = new Set(chosenTrain.map((i) => i.key));
  const evalPool = items.filter((i) => i.split === evalFrom && !taken.has(i.key));
  const chosenEval = stratifiedSample(evalPool, options.evalSize, options.seed, 'subset-eval');
  return { train: chosenTrain.map((i) => i.key), eval: chosenEval.map((i) => i.key), evalFrom };
}
