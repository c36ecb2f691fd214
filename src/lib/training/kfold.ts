import { assignFolds as assignSampleFolds } from '$lib/datasets/splits';

/**
 * Cross-validation folds of samples by id: the datasets module's stratified, seeded assignment (classes
 * as they are, years by decade), keyed by sample id.
 * @returns fold index per id
 */
export function assignFolds(samples: { id: string; label: string | number }[], k: number, seed: number): Map<string, number> {
  return assignSampleFolds(samples.map(({ id, label }) => ({ key: id, label })), k, seed);
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
