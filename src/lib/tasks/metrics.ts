import type { ClassMetrics, ConfidenceInterval } from '$lib/db/analysis-shapes';

/**
 * Evaluation metrics, computed on plain arrays after a model's predictions were read back once.
 * Names follow scikit-learn's, so figures compare with what users already know.
 */

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  r2: number;
  medianAe: number;
}

export type { ClassMetrics, ConfidenceInterval };

export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[trueIndex][predictedIndex] */
  confusion: number[][];
}

/** Which way is better for each metric Loupe reports. */
export const GREATER_IS_BETTER: Readonly<Record<string, boolean>> = {
  mae: false,
  rmse: false,
  medianAe: false,
  r2: true,
  accuracy: true,
  macroF1: true,
  loss: false,
  val_loss: false,
};

function checkLengths(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`metrics need as many predictions as labels (${b.length} vs ${a.length})`);
  if (a.length === 0) throw new Error('metrics need at least one example');
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** @example regressionMetrics([1900, 1950], [1910, 1940]) // { mae: 10, rmse: 10, r2: 0.84, medianAe: 10 } */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  checkLengths(yTrue, yPred);
  const n = yTrue.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let absSum = 0;
  let sqSum = 0;
  let totSum = 0;
  const abs: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const error = yPred[i]! - yTrue[i]!;
    abs[i] = Math.abs(error);
    absSum += abs[i]!;
    sqSum += error * error;
    totSum += (yTrue[i]! - mean) ** 2;
  }
  abs.sort((a, b) => a - b);
  // As scikit-learn: a constant target gives R² = 1 for a perfect fit and 0 otherwise.
  const r2 = totSum === 0 ? (sqSum === 0 ? 1 : 0) : 1 - sqSum / totSum;
  return { mae: absSum / n, rmse: Math.sqrt(sqSum / n), r2, medianAe: median(abs) };
}

/**
 * Metrics of class predictions given as label indices into `labels` (the model's classes): per-class
 * figures and the confusion matrix cover every one of them; macro-F1 is scikit-learn's.
 * @example classificationMetrics([0, 0, 1, 1], [0, 1, 1, 1], ['negative', 'positive']).macroF1 // (2/3 + 4/5) / 2
 */
export function classificationMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels: readonly string[]): ClassificationMetrics {
  checkLengths(yTrue, yPred);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(t >= 0 && t < k && p >= 0 && p < k)) throw new Error(`label index out of range at example ${i}: true ${t}, predicted ${p}`);
    confusion[t]![p]!++;
    if (t === p) correct++;
  }
  const perClass = labels.map((label, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    // Zero-division yields 0, as scikit-learn's default `zero_division="warn"` does.
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  // scikit-learn's `f1_score(average='macro')` averages over the labels found in y_true or y_pred: a
  // class of the model that the data never has and the model never predicts does not count as an F1 of 0.
  const counted = perClass.filter((c, i) => c.support > 0 || confusion.some((row) => row[i]! > 0));
  return {
    accuracy: correct / yTrue.length,
    macroF1: counted.reduce((a, c) => a + c.f1, 0) / counted.length,
    perClass,
    confusion,
  };
}

/**
 * Percentile bootstrap 95 % interval of a metric over paired examples, resampled with a seeded
 * `random` so the same run reports the same interval.
 */
export function bootstrapCi(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  metric: (t: number[], p: number[]) => number,
  random: () => number,
  iterations = 1000,
): ConfidenceInterval {
  checkLengths(yTrue, yPred);
  const n = yTrue.length;
  const estimate = metric(Array.from(yTrue), Array.from(yPred));
  const samples: number[] = [];
  const t = new Array<number>(n);
  const p = new Array<number>(n);
  for (let b = 0; b < iterations; b++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      t[i] = yTrue[j]!;
      p[i] = yPred[j]!;
    }
    samples.push(metric(t, p));
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.floor(q * samples.length)))]!;
  return { estimate, low: at(0.025), high: at(0.975) };
}

/** Mean absolute error grouped by decade of the true year, for the coin task's error analysis. */
export function errorByDecade(years: ArrayLike<number>, predicted: ArrayLike<number>): { decade: number; mae: number; count: number }[] {
  checkLengths(years, predicted);
  const groups = new Map<number, { sum: number; count: number }>();
  for (let i = 0; i < years.length; i++) {
    const decade = Math.floor(years[i]! / 10) * 10;
    const g = groups.get(decade) ?? { sum: 0, count: 0 };
    g.sum += Math.abs(predicted[i]! - years[i]!);
    g.count++;
    groups.set(decade, g);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([decade, g]) => ({ decade, mae: g.sum / g.count, count: g.count }));
}
