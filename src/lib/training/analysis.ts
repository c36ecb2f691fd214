import type { ErrorAnalysis } from '$lib/db/analysis-shapes';
import type { TrainedOn } from '$lib/db/registry-shapes';
import type { Prediction, TaskDefinition } from '$lib/tasks/types';
import { deriveSeed, mulberry32 } from '$lib/random';
import { bootstrapCi, classificationMetrics, errorByDecade, regressionMetrics } from '$lib/tasks/metrics';

export type { ErrorAnalysis } from '$lib/db/analysis-shapes';

export const MAX_POINTS = 2000;
const BOOTSTRAP_ITERATIONS = 500;

function histogram(values: number[], bins = 20): { from: number; to: number; count: number }[] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = (max - min) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) / width))]!++;
  return counts.map((count, i) => ({ from: min + i * width, to: min + (i + 1) * width, count }));
}

/**
 * Scores predictions against targets with bootstrap 95 % intervals (seeded, so the same run reports the
 * same intervals) and the breakdowns the Runs page draws.
 */
export function analyzeErrors(
  task: TaskDefinition,
  targets: number[],
  predictions: Prediction[],
  seed: number,
  labels: string[] = [...(task.presets[0]?.labels ?? [])],
): ErrorAnalysis {
  const random = mulberry32(deriveSeed(seed, 'bootstrap'));
  if (task.kind === 'regression') {
    const predicted = predictions.map((p) => (p.kind === 'regression' ? p.value : Number.NaN));
    const ci = (name: 'mae' | 'rmse' | 'r2' | 'medianAe') =>
      bootstrapCi(targets, predicted, (t, p) => regressionMetrics(t, p)[name], random, BOOTSTRAP_ITERATIONS);
    const step = Math.max(1, Math.ceil(targets.length / MAX_POINTS));
    return {
      kind: 'regression',
      count: targets.length,
      metrics: { mae: ci('mae'), rmse: ci('rmse'), r2: ci('r2'), medianAe: ci('medianAe') },
      points: targets.filter((_, i) => i % step === 0).map((t, i) => [t, predicted[i * step]!]),
      residualHistogram: histogram(predicted.map((p, i) => p - targets[i]!)),
      byDecade: errorByDecade(targets, predicted),
    };
  }
  const predicted = predictions.map((p) => (p.kind === 'classification' ? p.index : -1));
  const full = classificationMetrics(targets, predicted, labels);
  const ci = (name: 'accuracy' | 'macroF1') =>
    bootstrapCi(targets, predicted, (t, p) => classificationMetrics(t, p, labels)[name], random, BOOTSTRAP_ITERATIONS);
  return {
    kind: 'classification',
    count: targets.length,
    labels,
    accuracy: ci('accuracy'),
    macroF1: ci('macroF1'),
    perClass: full.perClass,
    confusion: full.confusion,
  };
}

/**
 * What a model was trained on, kept with its run and version so the Predict page can say when an input
 * lies outside it: the training targets' range (regression), and the 10th percentile of the top-class
 * scores on the validation split (classification: a served score below it is less sure than 90 % of them).
 * @example trainedOn([1850, 1990, 2020], []) // { targetRange: { min: 1850, max: 2020 } }
 */
export function trainedOn(trainingTargets: readonly number[] | undefined, validation: readonly Prediction[]): TrainedOn {
  const targets = (trainingTargets ?? []).filter(Number.isFinite);
  const scores = validation.flatMap((p) => (p.kind === 'classification' ? [p.score] : [])).sort((a, b) => a - b);
  return {
    ...(targets.length ? { targetRange: { min: targets.reduce((a, b) => Math.min(a, b)), max: targets.reduce((a, b) => Math.max(a, b)) } } : {}),
    ...(scores.length ? { lowScore: scores[Math.floor((scores.length - 1) * 0.1)]! } : {}),
  };
}
