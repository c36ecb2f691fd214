import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assignFolds, assignSplits, clampSubset, DEFAULT_SUBSET, pickSubset, stratumOf, type SplitItem } from '../../../src/lib/datasets/splits';
import { datasetVersionId, reimportedVersionId } from '../../../src/lib/datasets/version';
import { mulberry32, shuffled } from '../../../src/lib/datasets/random';

const classes = (perClass: Record<string, number>): SplitItem[] =>
  Object.entries(perClass).flatMap(([label, n]) => Array.from({ length: n }, (_, i) => ({ key: `${label}-${String(i).padStart(4, '0')}`, label })));

const count = <T>(items: T[], f: (x: T) => string) => items.reduce<Record<string, number>>((acc, x) => ((acc[f(x)] = (acc[f(x)] ?? 0) + 1), acc), {});

describe('splits', () => {
  const items = classes({ minor: 200, moderate: 100, major: 50 });

  it('is reproducible: same seed ⇒ same assignment whatever the input order; another seed differs', () => {
    const a = assignSplits(items, { seed: 1 });
    const b = assignSplits(shuffled(items, mulberry32(9)), { seed: 1 });
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    const c = assignSplits(items, { seed: 2 });
    expect([...c.entries()].filter(([k, v]) => a.get(k) !== v).length).toBeGreaterThan(20);
  });

  it('stratifies classes: each split holds each class in its overall proportion (±1)', () => {
    const splits = assignSplits(items, { seed: 3, fractions: { train: 0.7, val: 0.15, test: 0.15 } });
    const byClassAndSplit = count(items, (i) => `${i.label}/${splits.get(i.key)}`);
    for (const [label, n] of [['minor', 200], ['moderate', 100], ['major', 50]] as const) {
      expect(Math.abs(byClassAndSplit[`${label}/train`]! - n * 0.7)).toBeLessThanOrEqual(1);
      expect(Math.abs(byClassAndSplit[`${label}/val`]! - n * 0.15)).toBeLessThanOrEqual(1);
      expect(Math.abs(byClassAndSplit[`${label}/test`]! - n * 0.15)).toBeLessThanOrEqual(1);
    }
    expect(count([...splits.values()], (s) => s)).toEqual({ train: 245, val: 53, test: 52 });
  });

  it('bins years by decade so every split spans the eras', () => {
    const random = mulberry32(5);
    const years = Array.from({ length: 400 }, (_, i) => ({ key: `coin-${i}`, label: 1850 + Math.floor(random() * 170) }));
    const splits = assignSplits(years, { seed: 4 });
    expect(stratumOf(1862)).toBe('1860s');
    for (const split of ['train', 'val', 'test']) {
      const decades = new Set(years.filter((y) => splits.get(y.key) === split).map((y) => stratumOf(y.label)));
      expect(decades.size).toBeGreaterThanOrEqual(split === 'train' ? 17 : 12);
    }
  });

  it('refuses fractions that do not sum to 1', () => {
    expect(() => assignSplits(items, { seed: 1, fractions: { train: 0.8, val: 0.3, test: 0 } })).toThrow(/sum to 1/);
  });
});

describe('k-fold', () => {
  it('makes k disjoint folds covering every item, balanced overall and per class', () => {
    const items = classes({ a: 53, b: 31, c: 16 });
    const folds = assignFolds(items, 5, 11);
    expect(folds.size).toBe(items.length);
    const sizes = Object.values(count([...folds.values()], String));
    expect(sizes).toHaveLength(5);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const label of ['a', 'b', 'c']) {
      const perFold = Object.values(count(items.filter((i) => i.label === label), (i) => String(folds.get(i.key))));
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
    expect(assignFolds(items, 5, 11)).toEqual(folds);
    expect(() => assignFolds(items.slice(0, 2), 3, 1)).toThrow(/at least 3 samples/);
    expect(() => assignFolds(items, 1, 1)).toThrow(/k ≥ 2/);
  });
});

describe('subsets', () => {
  const pool = [
    ...classes({ negative: 3000, neutral: 4500, positive: 2500 }).map((i) => ({ ...i, split: 'train' as const })),
    ...classes({ negative: 300, neutral: 400, positive: 300 }).map((i) => ({ ...i, key: `val-${i.key}`, split: 'val' as const })),
  ];

  it('draws the requested sizes, stratified, reproducibly, with train and eval disjoint', () => {
    const subset = pickSubset(pool, { trainSize: 1000, evalSize: 200, seed: 42 });
    expect(subset.train).toHaveLength(1000);
    expect(subset.eval).toHaveLength(200);
    expect(subset.evalFrom).toBe('val');
    const label = new Map(pool.map((i) => [i.key, i.label]));
    expect(count(subset.train, (k) => String(label.get(k)))).toEqual({ negative: 300, neutral: 450, positive: 250 });
    expect(count(subset.eval, (k) => String(label.get(k)))).toEqual({ negative: 60, neutral: 80, positive: 60 });
    expect(subset.eval.every((k) => k.startsWith('val-'))).toBe(true);
    expect(pickSubset(shuffled(pool, mulberry32(3)), { trainSize: 1000, evalSize: 200, seed: 42 }).train.sort()).toEqual([...subset.train].sort());
    expect(pickSubset(pool, { trainSize: 1000, evalSize: 200, seed: 43 }).train.sort()).not.toEqual([...subset.train].sort());
  });

  it('takes eval from test when there is no val split, and from the rest of train when there is neither', () => {
    const trainOnly = pool.filter((i) => i.split === 'train').slice(0, 500);
    const subset = pickSubset(trainOnly, { trainSize: 300, evalSize: 100, seed: 1 });
    expect(subset.evalFrom).toBe('train');
    expect(new Set([...subset.train, ...subset.eval]).size).toBe(400);
    const withTest = pool.map((i) => (i.split === 'val' ? { ...i, split: 'test' as const } : i));
    expect(pickSubset(withTest, { trainSize: 10, evalSize: 10, seed: 1 }).evalFrom).toBe('test');
    expect(() => pickSubset(pool, { trainSize: -1, evalSize: 1, seed: 1 })).toThrow(/trainSize/);
  });
});

describe('dataset version ids', () => {
  const samples = [
    { hash: 'h1', label: 'positive', split: 'train' as const },
    { hash: 'h2', label: 'negative', split: 'val' as const },
    { hash: 'h3', label: 'neutral', split: 'test' as const, fold: 2 },
  ];

  it('depends on content, not order', async () => {
    const id = await datasetVersionId('text-classification', samples);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await datasetVersionId('text-classification', [...samples].reverse())).toBe(id);
  });

  it('changes with any sample, label, split, fold or the task', async () => {
    const id = await datasetVersionId('text-classification', samples);
    const variants = [
      samples.map((s, i) => (i === 0 ? { ...s, hash: 'h9' } : s)),
      samples.map((s, i) => (i === 0 ? { ...s, label: 'neutral' } : s)),
      samples.map((s, i) => (i === 1 ? { ...s, split: 'train' as const } : s)),
      samples.map((s, i) => (i === 2 ? { ...s, fold: 1 } : s)),
      samples.slice(1),
    ];
    const ids = await Promise.all(variants.map((v) => datasetVersionId('text-classification', v)));
    ids.push(await datasetVersionId('image-classification', samples));
    expect(new Set([id, ...ids]).size).toBe(ids.length + 1);
    expect(await datasetVersionId('coin-year', [{ hash: 'h', label: 1900, split: 'train' }])).not.toBe(await datasetVersionId('coin-year', [{ hash: 'h', label: '1900', split: 'train' }]));
  });

  it('hashes image classification under its earlier name car-damage, so ids of saved datasets are unchanged', async () => {
    const images = [
      { hash: 'h1', label: 'minor', split: 'train' as const },
      { hash: 'h2', label: 'major', split: 'val' as const, fold: 1 },
    ];
    const lines = images.map((s) => `${s.hash}\t${JSON.stringify(s.label)}\t${s.split}\t${s.fold ?? ''}`).sort();
    const legacy = createHash('sha256').update(`loupe-dataset-version 1\ncar-damage\n${lines.join('\n')}`).digest('hex');
    expect(await datasetVersionId('image-classification', images)).toBe(legacy);
    const current = createHash('sha256').update(`loupe-dataset-version 1\nsentiment\n${lines.join('\n')}`).digest('hex');
    expect(await datasetVersionId('text-classification', images)).toBe(current);
  });

  describe('the class list', () => {
    const reviews = [
      { hash: 'h1', label: 'positive', split: 'train' as const },
      { hash: 'h2', label: 'negative', split: 'val' as const },
    ];
    const PRESET = ['negative', 'neutral', 'positive'];
    const legacy = (task: string, samples: typeof reviews) =>
      createHash('sha256')
        .update(`loupe-dataset-version 1\n${task}\n${samples.map((s) => `${s.hash}\t${JSON.stringify(s.label)}\t${s.split}\t`).sort().join('\n')}`)
        .digest('hex');

    it('tells the same labels apart as 2 classes and as the 3-class preset', async () => {
      const two = await datasetVersionId('text-classification', reviews, ['negative', 'positive']);
      const three = await datasetVersionId('text-classification', reviews, PRESET);
      expect(two).not.toBe(three);
      expect(await datasetVersionId('text-classification', reviews, ['positive', 'negative'])).not.toBe(two); // the order is the output order
    });

    it('keeps the ids of versions whose classes are what their labels implied before ids covered them', async () => {
      // Preset-labelled sets had the full preset; sets with their own names had those names, naturally sorted.
      expect(await datasetVersionId('text-classification', reviews, PRESET)).toBe(legacy('sentiment', reviews));
      const cars = [{ hash: 'c1', label: 'minor', split: 'train' as const }];
      expect(await datasetVersionId('image-classification', cars, ['minor', 'moderate', 'major'])).toBe(legacy('car-damage', cars));
      const support = [
        { hash: 's1', label: 'Hardware', split: 'train' as const },
        { hash: 's2', label: 'class10', split: 'train' as const },
        { hash: 's3', label: 'class2', split: 'val' as const },
      ];
      expect(await datasetVersionId('text-classification', support, ['class2', 'class10', 'Hardware'])).toBe(legacy('sentiment', support));
      expect(await datasetVersionId('text-classification', support, ['Hardware', 'class2', 'class10'])).not.toBe(legacy('sentiment', support));
    });

    it('re-imports an export written before ids covered classes to its recorded id, and nothing else', async () => {
      const binary = ['negative', 'positive'];
      const old = legacy('sentiment', reviews);
      expect(await reimportedVersionId('text-classification', reviews, binary, old)).toBe(old);
      expect(await reimportedVersionId('text-classification', reviews, binary, undefined)).toBe(await datasetVersionId('text-classification', reviews, binary));
      // An export whose content changed since gets the id of what it holds now.
      expect(await reimportedVersionId('text-classification', reviews.slice(1), binary, old)).toBe(await datasetVersionId('text-classification', reviews.slice(1), binary));
    });
  });
});

describe('clampSubset', () => {
  it('clamps the default sizes to a 300-sample dataset and says so', () => {
    const clamped = clampSubset(DEFAULT_SUBSET, { train: 210, val: 45, test: 45 });
    expect(clamped.options).toEqual({ trainSize: 210, evalSize: 45, seed: 42 });
    expect(clamped.note).toBe('The dataset has 300 samples (210 train, 45 val): sizes clamped to 210 train / 45 eval.');
  });

  it('leaves sizes that fit alone, and draws eval from the train items left when there is no val or test', () => {
    expect(clampSubset({ trainSize: 100, evalSize: 20, seed: 1 }, { train: 210, val: 45 })).toEqual({ options: { trainSize: 100, evalSize: 20, seed: 1 } });
    const onlyTrain = clampSubset({ trainSize: 80, evalSize: 50, seed: 1 }, { train: 100 });
    expect(onlyTrain.options).toEqual({ trainSize: 80, evalSize: 20, seed: 1 });
    expect(onlyTrain.note).toMatch(/20 train left for eval/);
  });

  it('leaves the sizes alone for a dataset row that records no split counts, rather than clamping them to nothing', () => {
    expect(clampSubset(DEFAULT_SUBSET, {})).toEqual({ options: DEFAULT_SUBSET });
  });
});
