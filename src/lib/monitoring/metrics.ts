import type { AlertMetric } from '$lib/db/monitoring-shapes';
import type { EvalPointRow, RollupRow, TaskName } from '$lib/db/types';
import { TASKS } from '$lib/tasks/registry';
import { LATENCY_EDGES_MS } from './bins';
import type { DriftReport } from './drift';
import { emptyRollup, mergeInto } from './rollups';

/**
 * The `q`-quantile (0–1) of values counted in bins, interpolated linearly inside its bin (the way
 * Prometheus's `histogram_quantile` does). Values past the last edge read as the last edge.
 * @example percentile([0, 10, 0], [1, 2], 0.5) // 1.5
 */
export function percentile(bins: readonly number[], edges: readonly number[], q: number): number | undefined {
  const total = bins.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    const n = bins[i]!;
    if (n > 0 && seen + n >= rank) {
      if (i >= edges.length) return edges[edges.length - 1];
      const lower = i === 0 ? 0 : edges[i - 1]!;
      return lower + (edges[i]! - lower) * Math.min(1, Math.max(0, (rank - seen) / n));
    }
    seen += n;
  }
  return edges[edges.length - 1];
}

/** The primary metric of a task's evaluations, and whether higher is better. */
export function primaryMetric(task: TaskName | undefined): { name: string; higherIsBetter: boolean } {
  const definition = task ? TASKS[task] : undefined;
  return definition ? { name: definition.primaryMetric, higherIsBetter: definition.greaterIsBetter } : { name: 'accuracy', higherIsBetter: true };
}

/** Whether a model's outputs are values (regression) rather than classes; rows without a task are classifiers'. */
export function isRegression(task: TaskName | undefined): boolean {
  return task !== undefined && TASKS[task]?.kind === 'regression';
}

/** Figures of one time bucket (or a whole window), computed from the sum of its rollups. */
export interface WindowFigures {
  count: number;
  errors: number;
  errorRate?: number;
  p50?: number;
  p95?: number;
  p99?: number;
  meanLatency?: number;
  meanConfidence?: number;
  /** Share of feedback-labelled predictions that were right (classifiers). */
  feedbackAccuracy?: number;
  /** Mean |error| of feedback-labelled predictions (regression). */
  feedbackMae?: number;
  feedbackCount: number;
}

export function figuresOf(rollup: RollupRow): WindowFigures {
  const attempts = rollup.count + rollup.errors;
  const regression = isRegression(rollup.task);
  return {
    count: rollup.count,
    errors: rollup.errors,
    errorRate: attempts > 0 ? rollup.errors / attempts : undefined,
    p50: percentile(rollup.latency.bins, LATENCY_EDGES_MS, 0.5),
    p95: percentile(rollup.latency.bins, LATENCY_EDGES_MS, 0.95),
    p99: percentile(rollup.latency.bins, LATENCY_EDGES_MS, 0.99),
    meanLatency: rollup.count > 0 ? rollup.latency.sum / rollup.count : undefined,
    meanConfidence: rollup.score.count > 0 ? rollup.score.sum / rollup.score.count : undefined,
    feedbackAccuracy: !regression && rollup.feedback.count > 0 ? rollup.feedback.correct / rollup.feedback.count : undefined,
    feedbackMae: regression && rollup.feedback.count > 0 ? rollup.feedback.absError / rollup.feedback.count : undefined,
    feedbackCount: rollup.feedback.count,
  };
}

/** One time bucket: its start and the sum of the rollups of its minutes. */
export interface Bucket {
  start: number;
  rollup: RollupRow;
}

/**
 * Groups a window's rollups into buckets of `bucketMs` aligned to multiples of it, empty buckets
 * included (so a chart shows quiet periods as zero traffic rather than joining its neighbours).
 */
export function bucketize(model: string, rollups: readonly RollupRow[], from: number, to: number, bucketMs: number): Bucket[] {
  const first = Math.floor(from / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil((to - first) / bucketMs));
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ start: first + i * bucketMs, rollup: emptyRollup(model, first + i * bucketMs) }));
  for (const rollup of rollups) {
    const i = Math.floor((rollup.minute - first) / bucketMs);
    if (i >= 0 && i < count) mergeInto(buckets[i]!.rollup, rollup);
  }
  return buckets;
}

export type { AlertMetric } from '$lib/db/monitoring-shapes';

export const ALERT_METRICS: Record<AlertMetric, { label: string; unit: string }> = {
  accuracy: { label: 'accuracy from feedback labels', unit: '0–1' },
  feedback_mae: { label: 'MAE from feedback labels', unit: 'years' },
  evaluation: { label: 'primary metric of the periodic evaluation (latest)', unit: '' },
  latency_p50: { label: 'latency p50', unit: 'ms' },
  latency_p95: { label: 'latency p95', unit: 'ms' },
  latency_p99: { label: 'latency p99', unit: 'ms' },
  error_rate: { label: 'error rate', unit: '0–1' },
  mean_confidence: { label: 'mean confidence', unit: '0–1' },
  requests: { label: 'predictions in the window', unit: 'count' },
  psi_max: { label: 'drift: largest PSI', unit: 'PSI' },
  psi_predictions: { label: 'drift: PSI of predictions', unit: 'PSI' },
  psi_confidence: { label: 'drift: PSI of confidence', unit: 'PSI' },
  psi_inputs: { label: 'drift: largest PSI of input statistics', unit: 'PSI' },
};

export const ALERT_METRIC_NAMES = Object.keys(ALERT_METRICS) as AlertMetric[];

export const isDriftMetric = (metric: AlertMetric) => metric.startsWith('psi_');

/** Inputs of a rule's metric: the window's rollups summed, its drift report, its evaluation points. */
export interface MetricContext {
  window: RollupRow;
  drift?: DriftReport;
  /** Evaluation points in the window, oldest first. */
  evalPoints?: readonly EvalPointRow[];
}

/** The value of a metric over a window; undefined when the window has no data for it (rules then stay quiet). */
export function metricValue(metric: AlertMetric, context: MetricContext): number | undefined {
  const figures = figuresOf(context.window);
  const driftOf = (keys?: string[]) => {
    const features = (context.drift?.features ?? []).filter((f) => !keys || keys.includes(f.key));
    return features.length ? Math.max(...features.map((f) => f.psi)) : undefined;
  };
  switch (metric) {
    case 'accuracy':
      return figures.feedbackAccuracy;
    case 'feedback_mae':
      return figures.feedbackMae;
    case 'evaluation': {
      const last = [...(context.evalPoints ?? [])].reverse().find((p) => !p.error);
      return last?.metrics[primaryMetric(context.window.task).name];
    }
    case 'latency_p50':
      return figures.p50;
    case 'latency_p95':
      return figures.p95;
    case 'latency_p99':
      return figures.p99;
    case 'error_rate':
      return figures.errorRate;
    case 'mean_confidence':
      return figures.meanConfidence;
    case 'requests':
      return figures.count;
    case 'psi_max':
      return driftOf();
    case 'psi_predictions':
      return driftOf(['predictions']);
    case 'psi_confidence':
      return driftOf(['confidence']);
    case 'psi_inputs':
      return driftOf(['textLength', 'oovRate', 'brightness', 'imageSide', 'imageKb']);
  }
}
