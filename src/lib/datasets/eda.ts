import type { SampleRow, Split, TaskName } from '$lib/db/types';
import { TASKS } from '$lib/tasks/registry';
import { taskLabels } from './labels';
import { DEFAULT_YEAR_BIN } from './splits';

/**
 * Exploratory figures of a dataset version, in pure TS over its sample rows (metadata only: no blob
 * is read). Every function takes the rows a page already has and returns plain data for charts.
 */

export type EdaSample = Pick<SampleRow, 'label' | 'split' | 'hash' | 'path'> & Partial<Pick<SampleRow, 'width' | 'height' | 'bytes' | 'text' | 'sizes'>>;

export interface Bar {
  label: string;
  value: number;
  /** Counts per split, for stacked bars and tooltips. */
  bySplit?: Partial<Record<Split, number>>;
}

function tally(map: Map<string, Bar>, label: string, split: Split): void {
  let bar = map.get(label);
  if (!bar) map.set(label, (bar = { label, value: 0, bySplit: {} }));
  bar.value++;
  bar.bySplit![split] = (bar.bySplit![split] ?? 0) + 1;
}

/**
 * Class counts in the dataset's class order (`classes`, its stored list: an empty class shows as a zero
 * bar, a class it does not have shows not at all) or, for years, a histogram in bins of `yearBin` years
 * covering every bin from the earliest to the latest year (empty bins included, so gaps show).
 * Datasets stored without a class list count in the task preset's order.
 */
export function labelDistribution(samples: readonly EdaSample[], task: TaskName, yearBin = DEFAULT_YEAR_BIN, classes?: readonly string[]): Bar[] {
  const bars = new Map<string, Bar>();
  if (TASKS[task].kind === 'regression') {
    const years = samples.map((s) => Number(s.label)).filter(Number.isFinite);
    if (years.length === 0) return [];
    const first = Math.floor(Math.min(...years) / yearBin) * yearBin;
    const last = Math.floor(Math.max(...years) / yearBin) * yearBin;
    for (let bin = first; bin <= last; bin += yearBin) bars.set(`${bin}`, { label: `${bin}`, value: 0, bySplit: {} });
    for (const s of samples) tally(bars, `${Math.floor(Number(s.label) / yearBin) * yearBin}`, s.split);
    return [...bars.values()];
  }
  // Without a stored class list (older datasets), a preset-labelled set has the preset's classes.
  const preset = taskLabels(task) ?? [];
  const order = classes ?? (samples.every((s) => preset.includes(String(s.label))) ? preset : []);
  for (const label of order) bars.set(label, { label, value: 0, bySplit: {} });
  for (const s of samples) tally(bars, String(s.label), s.split);
  return [...bars.values()];
}

export function splitDistribution(samples: readonly EdaSample[]): Partial<Record<Split, number>> {
  const counts: Partial<Record<Split, number>> = {};
  for (const s of samples) counts[s.split] = (counts[s.split] ?? 0) + 1;
  return counts;
}

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted.at(-1)!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
  };
}

/** A histogram of values in `bins` equal-width bins between their min and max. */
export function histogram(values: readonly number[], bins = 12): Bar[] {
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min === max) return [{ label: String(min), value: values.length }];
  const width = (max - min) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) / width))]!++;
  return counts.map((value, i) => ({ label: `${Math.round(min + i * width)}`, value }));
}

export interface ImageSizeStats {
  width?: Summary;
  height?: Summary;
  /** Most frequent stored sizes, e.g. `128×128` — the largest first. */
  common: { size: string; count: number }[];
  /** Histogram of the longer side. */
  longSide: Bar[];
  bytes?: Summary;
}

/** Distribution of image sizes (every image: coins count front and back). */
export function imageSizeDistribution(samples: readonly EdaSample[], top = 8): ImageSizeStats {
  const sizes = samples.flatMap((s) => s.sizes ?? (s.width && s.height ? [{ width: s.width, height: s.height }] : []));
  const counts = new Map<string, number>();
  for (const { width, height } of sizes) counts.set(`${width}×${height}`, (counts.get(`${width}×${height}`) ?? 0) + 1);
  return {
    width: summarize(sizes.map((s) => s.width)),
    height: summarize(sizes.map((s) => s.height)),
    common: [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([size, count]) => ({ size, count })),
    longSide: histogram(sizes.map((s) => Math.max(s.width, s.height)), 10),
    bytes: summarize(samples.map((s) => s.bytes ?? 0).filter((b) => b > 0)),
  };
}

/** Text for near-duplicate detection: case, mentions, links, punctuation and spacing ignored. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/@\w+/g, '@user')
    .replace(/[^\p{L}\p{N}@#]+/gu, ' ')
    .trim();
}

export interface DuplicateGroup {
  kind: 'exact' | 'near';
  key: string;
  paths: string[];
  labels: (string | number)[];
}

/**
 * Groups of samples with the same content hash (exact) and, for texts, the same normalized text
 * (near: differing only in case, punctuation, links or mentions). Groups with conflicting labels first.
 */
export function findDuplicates(samples: readonly EdaSample[]): DuplicateGroup[] {
  const groups: DuplicateGroup[] = [];
  const collect = (kind: DuplicateGroup['kind'], keyOf: (s: EdaSample) => string | undefined) => {
    const byKey = new Map<string, EdaSample[]>();
    for (const s of samples) {
      const key = keyOf(s);
      if (key === undefined || key === '') continue;
      byKey.set(key, [...(byKey.get(key) ?? []), s]);
    }
    for (const [key, members] of byKey) {
      if (members.length > 1) groups.push({ kind, key, paths: members.map((m) => m.path), labels: members.map((m) => m.label) });
    }
  };
  collect('exact', (s) => s.hash);
  const exactKeys = new Set(groups.flatMap((g) => g.paths));
  collect('near', (s) => (s.text === undefined || exactKeys.has(s.path) ? undefined : normalizeText(s.text)));
  const conflicting = (g: DuplicateGroup) => new Set(g.labels.map(String)).size > 1;
  return groups.sort((a, b) => Number(conflicting(b)) - Number(conflicting(a)) || b.paths.length - a.paths.length);
}

/** Words of a text for counting: lower case, links and mentions folded, punctuation dropped. */
export function tokenize(text: string): string[] {
  return normalizeText(text).split(/\s+/).filter(Boolean);
}

export interface TextLengthStats {
  words?: Summary;
  chars?: Summary;
  /** Histogram of word counts. */
  wordHistogram: Bar[];
}

export function textLengthDistribution(samples: readonly EdaSample[]): TextLengthStats {
  const texts = samples.map((s) => s.text).filter((t): t is string => t !== undefined);
  const words = texts.map((t) => t.split(/\s+/).filter(Boolean).length);
  return { words: summarize(words), chars: summarize(texts.map((t) => [...t].length)), wordHistogram: histogram(words, 12) };
}

/** Common English function words, left out of frequent-token lists by default. */
export const STOPWORDS = new Set(
  'a an the and or but if of to in on at for with from by as is are was were be been being am i me my we our you your he she it its they them their this that these those there here so not no do does did have has had will would can could just than then too very also about into up out over all any some what which who whom when where why how @user http rt'.split(
    ' ',
  ),
);

export interface TokenCount {
  token: string;
  count: number;
}

/**
 * The `top` most frequent tokens overall and per label (each token counted once per text, so a
 * repeated word does not dominate), stopwords left out unless `keepStopwords`.
 */
export function frequentTokens(
  samples: readonly EdaSample[],
  options: { top?: number; keepStopwords?: boolean } = {},
): { overall: TokenCount[]; byLabel: Record<string, TokenCount[]> } {
  const top = options.top ?? 20;
  const overall = new Map<string, number>();
  const byLabel = new Map<string, Map<string, number>>();
  for (const s of samples) {
    if (s.text === undefined) continue;
    const label = String(s.label);
    let counts = byLabel.get(label);
    if (!counts) byLabel.set(label, (counts = new Map()));
    for (const token of new Set(tokenize(s.text))) {
      if (!options.keepStopwords && (STOPWORDS.has(token) || token.length < 2)) continue;
      overall.set(token, (overall.get(token) ?? 0) + 1);
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
  }
  const best = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([token, count]) => ({ token, count }));
  return { overall: best(overall), byLabel: Object.fromEntries([...byLabel.entries()].map(([label, m]) => [label, best(m)])) };
}
