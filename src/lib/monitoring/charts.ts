import type { EvalPointRow, GateDecisionRow, RollupRow } from '$lib/db/types';
import { REGRESSION_BIN_WIDTH } from './bins';
import { bucketize, figuresOf, isRegression, primaryMetric, type WindowFigures } from './metrics';
import { MINUTE_MS, sumRollups } from './rollups';

/** Time ranges of the Monitor page, last 15 minutes to 30 days. */
export const RANGES = [
  { key: '15m', label: 'Last 15 min', ms: 15 * MINUTE_MS },
  { key: '1h', label: 'Last hour', ms: 60 * MINUTE_MS },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 60 * MINUTE_MS },
  { key: '24h', label: 'Last 24 hours', ms: 24 * 60 * MINUTE_MS },
  { key: '7d', label: 'Last 7 days', ms: 7 * 24 * 60 * MINUTE_MS },
  { key: '30d', label: 'Last 30 days', ms: 30 * 24 * 60 * MINUTE_MS },
] as const;

export const BUCKETS = [
  { key: '1m', label: '1 min', ms: MINUTE_MS },
  { key: '5m', label: '5 min', ms: 5 * MINUTE_MS },
  { key: '15m', label: '15 min', ms: 15 * MINUTE_MS },
  { key: '1h', label: '1 hour', ms: 60 * MINUTE_MS },
  { key: '6h', label: '6 hours', ms: 6 * 60 * MINUTE_MS },
  { key: '1d', label: '1 day', ms: 24 * 60 * MINUTE_MS },
] as const;

/** Most buckets a chart draws; finer choices are coarsened to this. */
export const MAX_BUCKETS = 720;

/** The bucket for a range when the user picks "auto": the finest giving at most ~120 points. */
export function autoBucket(rangeMs: number): number {
  return (BUCKETS.find((b) => rangeMs / b.ms <= 120) ?? BUCKETS[BUCKETS.length - 1]!).ms;
}

/** A bucket size the chart can draw for a range: the choice, coarsened until at most `MAX_BUCKETS` remain. */
export function effectiveBucket(rangeMs: number, chosenMs: number | undefined): number {
  const wanted = chosenMs ?? autoBucket(rangeMs);
  return (BUCKETS.find((b) => b.ms >= wanted && rangeMs / b.ms <= MAX_BUCKETS) ?? BUCKETS[BUCKETS.length - 1]!).ms;
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/** One chart's data: x is each bucket's start (epoch ms). Exported as JSON or CSV as it is drawn. */
export interface TimeChartData {
  key: string;
  title: string;
  unit: string;
  x: number[];
  series: ChartSeries[];
  /** Fixed y range for shares and probabilities (0–1); otherwise the axis fits the data. */
  yRange?: [number, number];
}

export interface Marker {
  ts: number;
  label: string;
}

export interface DashboardData {
  from: number;
  to: number;
  bucketMs: number;
  totals: WindowFigures;
  charts: TimeChartData[];
  /** Class shares, or counts per decade of a regression model's predictions. */
  distribution: { label: string; value: number }[];
  distributionKind: 'classes' | 'years';
  markers: Marker[];
}

const orNull = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? null : value);

/**
 * Everything the Monitor page draws for one model and window, computed from its rollups (never from
 * raw log rows): traffic per version, latency percentiles, confidence, error rate, accuracy from
 * feedback and from periodic evaluations, the prediction distribution, and promotions as markers.
 * @example const data = dashboardData(rollups, { from, to, bucketMs: 60_000, promotions, evalPoints });
 */
export function dashboardData(
  model: string,
  rollups: readonly RollupRow[],
  window: { from: number; to: number; bucketMs: number; promotions?: readonly GateDecisionRow[]; evalPoints?: readonly EvalPointRow[] },
): DashboardData {
  const { from, to, bucketMs } = window;
  const buckets = bucketize(model, rollups, from, to, bucketMs);
  const total = sumRollups(model, rollups);
  const task = total.task;
  const figures = buckets.map((b) => figuresOf(b.rollup));
  const x = buckets.map((b) => b.start);
  const versions = [...new Set(rollups.flatMap((r) => Object.keys(r.versions)))].sort((a, b) => Number(a) - Number(b));
  const regression = isRegression(task);
  const metric = primaryMetric(task);
  const evalByBucket = new Map<number, number>();
  for (const point of window.evalPoints ?? []) {
    const value = point.metrics[metric.name];
    if (point.error || value === undefined || point.ts < from || point.ts > to) continue;
    evalByBucket.set(Math.floor((point.ts - x[0]!) / bucketMs), value);
  }
  const charts: TimeChartData[] = [
    {
      key: 'requests',
      title: 'Predictions by version',
      unit: `per ${formatBucket(bucketMs)}`,
      x,
      series: [{ label: 'all', values: figures.map((f) => f.count) }, ...versions.map((v) => ({ label: `v${v}`, values: buckets.map((b) => b.rollup.versions[v] ?? 0) }))],
    },
    {
      key: 'latency',
      title: 'Latency',
      unit: 'ms',
      x,
      series: [
        { label: 'p50', values: figures.map((f) => orNull(f.p50)) },
        { label: 'p95', values: figures.map((f) => orNull(f.p95)) },
        { label: 'p99', values: figures.map((f) => orNull(f.p99)) },
      ],
    },
    ...(regression ? [] : [{ key: 'confidence', title: 'Mean confidence', unit: '0–1', yRange: [0, 1] as [number, number], x, series: [{ label: 'mean confidence', values: figures.map((f) => orNull(f.meanConfidence)) }] }]),
    { key: 'errors', title: 'Error rate', unit: 'share of requests', yRange: [0, 1], x, series: [{ label: 'error rate', values: figures.map((f) => orNull(f.errorRate)) }] },
    {
      key: 'accuracy',
      title: regression ? 'MAE over time' : 'Accuracy over time',
      unit: regression ? 'years' : '0–1',
      ...(regression ? {} : { yRange: [0, 1] as [number, number] }),
      x,
      series: [
        { label: regression ? 'feedback MAE' : 'feedback accuracy', values: figures.map((f) => orNull(regression ? f.feedbackMae : f.feedbackAccuracy)) },
        { label: `evaluation ${metric.name}`, values: x.map((_, i) => evalByBucket.get(i) ?? null) },
      ],
    },
  ];
  const outputs = Object.entries(total.outputs);
  const distribution = regression
    ? outputs.sort((a, b) => Number(a[0]) - Number(b[0])).map(([decade, n]) => ({ label: `${decade}s`, value: n }))
    : outputs.sort((a, b) => a[0].localeCompare(b[0])).map(([label, n]) => ({ label, value: total.count ? n / total.count : 0 }));
  const markers = (window.promotions ?? [])
    .filter((d) => d.ts >= from && d.ts <= to && d.productionAfter !== undefined && d.productionAfter !== d.productionBefore)
    .map((d) => ({ ts: d.ts, label: d.outcome === 'rolled-back' ? `rollback → v${d.productionAfter}` : `v${d.productionAfter} in production` }));
  return { from, to, bucketMs, totals: figuresOf(total), charts, distribution, distributionKind: regression ? 'years' : 'classes', markers };
}

export function formatBucket(ms: number): string {
  return BUCKETS.find((b) => b.ms === ms)?.label ?? `${Math.round(ms / MINUTE_MS)} min`;
}

/** Decade width of the year histogram, for its caption. */
export const YEAR_BIN = REGRESSION_BIN_WIDTH;

const csvCell = (value: string | number | null) => {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** A chart as CSV: one row per bucket, `time` in ISO 8601 then one column per series. */
export function chartToCsv(chart: TimeChartData): string {
  const header = ['time', ...chart.series.map((s) => s.label)];
  const rows = chart.x.map((ts, i) => [new Date(ts).toISOString(), ...chart.series.map((s) => s.values[i] ?? null)]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** A chart as JSON: its title, unit and one object per bucket. */
export function chartToJson(chart: TimeChartData): string {
  return JSON.stringify(
    {
      chart: chart.key,
      title: chart.title,
      unit: chart.unit,
      points: chart.x.map((ts, i) => ({ time: new Date(ts).toISOString(), ...Object.fromEntries(chart.series.map((s) => [s.label, s.values[i] ?? null])) })),
    },
    null,
    2,
  );
}
