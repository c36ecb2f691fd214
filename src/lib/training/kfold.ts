import { deriveSeed, mulberry32, shuffled } from '$lib/random';

/**
 * Assigns each sample to one of `k` folds, stratified by label: each label's samples are shuffled
 * (seeded) and dealt round-robin, so every fold has the class mix of the whole. Years are stratified
 * by decade, so every fold spans the eras.
 * @returns fold index per id
 */
export function assignFolds(samples: { id: string; label: string | number }[], k: number, seed: number): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k-fold needs k ≥ 2, got ${k}`);
  if (samples.length < k) throw new Error(`k-fold with k = ${k} needs at least ${k} samples, got ${samples.length}`);
  const strata = new Map<string, string[]>();
  for (const { id, label } of [...samples].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const key = typeof label === 'number' ? String(Math.floor(label / 10)) : label;
    strata.set(key, [...(strata.get(key) ?? []), id]);
  }
  const folds = new Map<string, number>();
  let next = 0;
  for (const key of [...strata.keys()].sort()) {
    for (const id of shuffled(strata.get(key)!, mulberry32(deriveSeed(seed, 'kfold', key)))) folds.set(id, next++ % k);
  }
  return folds;
}

/** Mean and (sample) standard deviation of each metric across folds. */
export function summarizeFolds(metrics: Record<string, number>[]): Record<string, { mean: number; std: number }> {
  const names = [...new Set(metrics.flatMap((m) => Object.keys(m)))];
  return Object.fromEntries(
    names.map((name) => {
      const values = metrics.map((m) => m[name]).filter((v): v is number => v !== undefined);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
      return [name, { mean, std: Math.sqrt(variance) }];
    }),
  );
}
