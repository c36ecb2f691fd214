import type { InputStatName } from '$lib/db/monitoring-shapes';

/**
 * Fixed bin edges of every distribution monitoring keeps. Rollups, reference profiles and Prometheus
 * histograms all count into these same bins, so minutes add up exactly and any two windows compare
 * bin by bin (PSI). Edges are upper bounds: bin i holds values ≤ edges[i] (and > edges[i-1]); one more
 * bin past the last edge holds everything larger — Prometheus's `le` convention.
 */

/**
 * Latency in milliseconds. Fine enough (≤ 1.5× per step below 1 s) for p50/p95/p99 within a bin, and it
 * contains Prometheus's default buckets (5 ms … 10 s) so the exposition can use them exactly.
 */
export const LATENCY_EDGES_MS: readonly number[] = [
  0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12.5, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 200, 250, 300, 400,
  500, 600, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000, 60000,
];

/** Prometheus client libraries' default histogram buckets, in seconds (all are edges above). */
export const PROMETHEUS_LATENCY_BUCKETS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Confidence (top class probability) in tenths. */
export const SCORE_EDGES: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Regression predictions are counted per decade (`1850` holds 1850 ≤ year < 1860). */
export const REGRESSION_BIN_WIDTH = 10;

export type { InputStatName } from '$lib/db/monitoring-shapes';

export interface InputStatSpec {
  label: string;
  unit: string;
  edges: readonly number[];
}

export const INPUT_STATS: Record<InputStatName, InputStatSpec> = {
  textLength: { label: 'text length', unit: 'characters', edges: [10, 20, 30, 40, 60, 80, 100, 140, 200, 280, 400, 600, 1000] },
  oovRate: { label: 'out-of-vocabulary rate', unit: 'share of words', edges: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] },
  brightness: { label: 'image brightness', unit: 'mean luma 0–1', edges: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] },
  imageSide: { label: 'image size', unit: 'px, √(width·height)', edges: [32, 64, 96, 128, 192, 224, 256, 384, 512, 768, 1024, 2048] },
  imageKb: { label: 'image file size', unit: 'KB', edges: [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
};

export const INPUT_STAT_NAMES = Object.keys(INPUT_STATS) as InputStatName[];

/** Index of the bin a value falls in: the first edge ≥ value, or `edges.length` past the last. */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A zeroed count per bin (`edges.length + 1` bins). */
export const emptyBins = (edges: readonly number[]): number[] => new Array<number>(edges.length + 1).fill(0);

/** The key a regression value is counted under: the start of its decade. */
export const regressionKey = (value: number): string => String(Math.floor(value / REGRESSION_BIN_WIDTH) * REGRESSION_BIN_WIDTH);

/** Human label of bin i: `≤ 10`, `10–20`, `> 1000`. */
export function binLabel(edges: readonly number[], i: number): string {
  if (i === 0) return `≤ ${edges[0]}`;
  if (i >= edges.length) return `> ${edges[edges.length - 1]}`;
  return `${edges[i - 1]}–${edges[i]}`;
}
