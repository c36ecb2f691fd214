import type { LoupeDb } from '$lib/db/db';
import type { InferenceLogRow, RollupRow, TaskName } from '$lib/db/types';
import type { PredictionFailure } from '$lib/serving/types';
import { ROLLUPS_FOLDED_THROUGH } from '$lib/db/schema';
import { binIndex, emptyBins, INPUT_STATS, INPUT_STAT_NAMES, LATENCY_EDGES_MS, regressionKey, SCORE_EDGES } from './bins';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/** Start of the minute `ts` falls in. */
export const minuteOf = (ts: number): number => Math.floor(ts / MINUTE_MS) * MINUTE_MS;
export const hourOf = (ts: number): number => Math.floor(ts / HOUR_MS) * HOUR_MS;

/**
 * Hourly rollups live in the same table under their own key space (`model` + NUL + `h`, which no model
 * name contains), so a 30-day chart reads 720 rows instead of 43,200 without another table or index.
 */
export const hourKey = (model: string): string => `${model}\u0000h`;
export const isHourKey = (key: string): boolean => key.endsWith('\u0000h');

export function emptyRollup(model: string, minute: number, task?: TaskName): RollupRow {
  return {
    model,
    minute,
    ...(task ? { task } : {}),
    count: 0,
    errors: 0,
    versions: {},
    latency: { sum: 0, bins: emptyBins(LATENCY_EDGES_MS) },
    score: { sum: 0, count: 0, bins: emptyBins(SCORE_EDGES) },
    outputs: {},
    inputs: {},
    feedback: { count: 0, correct: 0, absError: 0 },
  };
}

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

/** The key a prediction's output is counted under: its label, or its value's decade. */
export function outputKey(output: unknown): string | undefined {
  const o = output as { kind?: string; label?: unknown; value?: unknown } | undefined;
  if (o?.kind === 'regression' && typeof o.value === 'number' && Number.isFinite(o.value)) return regressionKey(o.value);
  if (typeof o?.label === 'string') return o.label;
  return undefined;
}

/** How a piece of feedback scores a prediction: right or wrong for classes, |error| for numbers. */
export function feedbackOutcome(output: unknown, feedback: string | number | undefined): { correct: number; absError: number } | undefined {
  if (feedback === undefined || feedback === '') return undefined;
  const o = output as { kind?: string; label?: unknown; value?: unknown } | undefined;
  if (o?.kind === 'regression' && typeof o.value === 'number') {
    const truth = Number(feedback);
    return Number.isFinite(truth) ? { correct: 0, absError: Math.abs(o.value - truth) } : undefined;
  }
  return { correct: o?.label === String(feedback) ? 1 : 0, absError: 0 };
}

/** Adds one logged prediction to its minute's rollup (in place). */
export function addRow(rollup: RollupRow, row: InferenceLogRow): void {
  rollup.count++;
  rollup.task ??= row.task;
  bump(rollup.versions, String(row.version));
  rollup.latency.sum += row.latencyMs;
  rollup.latency.bins[binIndex(LATENCY_EDGES_MS, row.latencyMs)]!++;
  if (typeof row.score === 'number' && Number.isFinite(row.score)) {
    rollup.score.sum += row.score;
    rollup.score.count++;
    rollup.score.bins[binIndex(SCORE_EDGES, row.score)]!++;
  }
  const key = outputKey(row.output);
  if (key !== undefined) bump(rollup.outputs, key);
  for (const name of INPUT_STAT_NAMES) {
    const value = row.stats?.[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const bins = (rollup.inputs[name] ??= emptyBins(INPUT_STATS[name].edges));
    bins[binIndex(INPUT_STATS[name].edges, value)]!++;
  }
  addFeedback(rollup, row.output, row.feedback, 1);
}

/** Adds (sign 1) or takes back (sign -1) one piece of feedback. */
export function addFeedback(rollup: RollupRow, output: unknown, feedback: string | number | undefined, sign: 1 | -1): void {
  const outcome = feedbackOutcome(output, feedback);
  if (!outcome) return;
  rollup.feedback.count += sign;
  rollup.feedback.correct += sign * outcome.correct;
  rollup.feedback.absError += sign * outcome.absError;
}

const addRecords = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [key, n] of Object.entries(from)) bump(into, key, n);
};

const addBins = (into: number[], from: readonly number[]) => {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i]!;
};

/** Adds `from` into `into` (in place): rollups of any minutes add up to the rollup of their union. */
export function mergeInto(into: RollupRow, from: RollupRow): RollupRow {
  into.count += from.count;
  into.errors += from.errors;
  into.task ??= from.task;
  addRecords(into.versions, from.versions);
  into.latency.sum += from.latency.sum;
  addBins(into.latency.bins, from.latency.bins);
  into.score.sum += from.score.sum;
  into.score.count += from.score.count;
  addBins(into.score.bins, from.score.bins);
  addRecords(into.outputs, from.outputs);
  for (const name of INPUT_STAT_NAMES) {
    const bins = from.inputs[name];
    if (bins) addBins((into.inputs[name] ??= emptyBins(INPUT_STATS[name].edges)), bins);
  }
  into.feedback.count += from.feedback.count;
  into.feedback.correct += from.feedback.correct;
  into.feedback.absError += from.feedback.absError;
  return into;
}

/** The sum of any rollups, as one rollup (of `model`, starting at the earliest minute). */
export function sumRollups(model: string, rollups: readonly RollupRow[]): RollupRow {
  const total = emptyRollup(model, rollups[0]?.minute ?? 0);
  for (const rollup of rollups) mergeInto(total, rollup);
  return total;
}

const keyOf = (model: string, minute: number) => `${model}\u0000${minute}`;

/** The hourly rollups of minute rollups: each hour's minutes summed, under the hour key space. */
export function hourlyOf(minutes: readonly RollupRow[]): RollupRow[] {
  const byKey = new Map<string, RollupRow>();
  for (const minute of minutes) {
    const key = keyOf(minute.model, hourOf(minute.minute));
    let hour = byKey.get(key);
    if (!hour) byKey.set(key, (hour = { ...emptyRollup(hourKey(minute.model), hourOf(minute.minute), minute.task), span: 60 }));
    mergeInto(hour, minute);
  }
  return [...byKey.values()];
}

/** Per-minute rollups of log rows and failures, grouped by (model, minute), computed in memory. */
export function rollupsOf(rows: readonly InferenceLogRow[], failures: readonly PredictionFailure[] = []): RollupRow[] {
  const byKey = new Map<string, RollupRow>();
  const get = (model: string, minute: number, task?: TaskName) => {
    const key = keyOf(model, minute);
    let rollup = byKey.get(key);
    if (!rollup) byKey.set(key, (rollup = emptyRollup(model, minute, task)));
    return rollup;
  };
  for (const row of rows) addRow(get(row.model, minuteOf(row.ts), row.task), row);
  for (const failure of failures) get(failure.model, minuteOf(failure.ts)).errors++;
  return [...byKey.values()];
}

/**
 * Adds rows (and failures) to the stored rollups: one read of the touched minutes and one `bulkPut`.
 * Logged rows go through `foldRows`/`foldLoggedRows`, which count each once.
 * @example await db.transaction('rw', db.rollups, async () => applyToRollups(db, [], failures));
 */
export async function applyToRollups(db: LoupeDb, rows: readonly InferenceLogRow[], failures: readonly PredictionFailure[] = []): Promise<void> {
  const minutes = rollupsOf(rows, failures);
  if (minutes.length === 0) return;
  const deltas = [...minutes, ...hourlyOf(minutes)];
  const stored = await db.rollups.bulkGet(deltas.map((d) => [d.model, d.minute] as [string, number]));
  await db.rollups.bulkPut(deltas.map((delta, i) => (stored[i] ? mergeInto(stored[i]!, delta) : delta)));
}

/** The id of the last log row counted in the rollups (the "folded through" mark; 0: none). */
export async function foldedThrough(db: LoupeDb): Promise<number> {
  const mark = (await db.settings.get(ROLLUPS_FOLDED_THROUGH))?.value;
  return typeof mark === 'number' ? mark : 0;
}

/**
 * Adds committed log rows (with their ids) to the rollups, each exactly once: rows at or below the mark
 * are already counted and skipped, and the mark moves to the last row. Rows are the record; their rollups
 * follow in this separate transaction, after the answer. False, with nothing written, when the log has
 * rows between the mark and these (another tab's, or a tab killed before it folded its own): then
 * `foldLoggedRows` reads them from the log.
 */
export function foldRows(db: LoupeDb, rows: readonly InferenceLogRow[]): Promise<boolean> {
  const sorted = [...rows].sort((a, b) => a.id! - b.id!);
  return db.transaction('rw', db.rollups, db.settings, async () => {
    const through = await foldedThrough(db);
    const fresh = sorted.filter((row) => row.id! > through);
    if (!fresh.every((row, i) => row.id === through + 1 + i)) return false;
    if (fresh.length === 0) return true;
    await applyToRollups(db, fresh);
    await db.settings.put({ key: ROLLUPS_FOLDED_THROUGH, value: fresh[fresh.length - 1]!.id! });
    return true;
  });
}

/**
 * Adds every log row past the mark to the rollups, read from the log (rows a killed tab committed and
 * answered but never folded in; at start-up, and whenever `foldRows` finds a gap). Returns how many.
 * @example await foldLoggedRows(db); // Monitor and the Prometheus totals now count every logged row
 */
export function foldLoggedRows(db: LoupeDb): Promise<number> {
  return db.transaction('rw', db.inferenceLog, db.rollups, db.settings, async () => {
    const through = await foldedThrough(db);
    const rows = await db.inferenceLog.where(':id').above(through).toArray();
    if (rows.length === 0) return 0;
    await applyToRollups(db, rows);
    await db.settings.put({ key: ROLLUPS_FOLDED_THROUGH, value: rows[rows.length - 1]!.id! });
    return rows.length;
  });
}

/** Minute rollups of one model between two instants (minutes that start in [from, to]), oldest first. */
export function readRollups(db: LoupeDb, model: string, from: number, to: number): Promise<RollupRow[]> {
  return db.rollups.where('[model+minute]').between([model, minuteOf(from)], [model, to], true, true).toArray();
}

/**
 * Names of the models that have rollups, by seeking from one name to the next on the `model` index
 * (one lookup per model, however many rollups each has).
 */
export async function monitoredModels(db: LoupeDb): Promise<string[]> {
  const names: string[] = [];
  let row = await db.rollups.orderBy('model').first();
  while (row) {
    if (!isHourKey(row.model)) names.push(row.model);
    row = await db.rollups.where('model').above(row.model).first();
  }
  return names;
}

/** Windows this long or longer read whole hours from hourly rollups. */
export const HOURLY_FROM_MS = 6 * HOUR_MS;

/**
 * The rollups covering a window, as few as possible: minute rollups at its ragged ends and hourly ones
 * for the whole hours between (for windows of `HOURLY_FROM_MS` or more). They sum to exactly what the
 * window's minute rollups sum to; hourly rows have `span: 60` and start at their hour. Pass `hourly: false`
 * when the caller splits the window finer than hours (charts with minute buckets).
 * @example const window = sumRollups('sentiment', await readWindow(db, 'sentiment', now - 30 * DAY, now));
 */
export async function readWindow(db: LoupeDb, model: string, from: number, to: number, hourly = true): Promise<RollupRow[]> {
  const first = minuteOf(from);
  if (!hourly || to - first < HOURLY_FROM_MS) return readRollups(db, model, first, to);
  const hoursFrom = Math.ceil(first / HOUR_MS) * HOUR_MS;
  const hoursTo = hourOf(to + 1); // whole hours end before this
  const [head, hours, tail] = await Promise.all([
    hoursFrom > first ? readRollups(db, model, first, hoursFrom - 1) : Promise.resolve([]),
    db.rollups.where('[model+minute]').between([hourKey(model), hoursFrom], [hourKey(model), hoursTo], true, false).toArray(),
    readRollups(db, model, hoursTo, to),
  ]);
  return [...head, ...hours, ...tail];
}

/**
 * Recomputes a model's rollups (or every model's) from the raw log, replacing the stored ones — for
 * logs written before rollups existed. Reads the log in pages so a million rows never sit in memory at
 * once. Rows past the "folded through" mark are counted once: by every model's rebuild (which moves the
 * mark past them) or, for one model's, by the fold still to come.
 */
export async function rebuildRollups(db: LoupeDb, model?: string, pageSize = 5000): Promise<number> {
  const byKey = new Map<string, RollupRow>();
  let seen = 0;
  const count = (row: InferenceLogRow) => {
    if (model !== undefined && row.model !== model) return;
    seen++;
    const key = keyOf(row.model, minuteOf(row.ts));
    let rollup = byKey.get(key);
    if (!rollup) byKey.set(key, (rollup = emptyRollup(row.model, minuteOf(row.ts), row.task)));
    addRow(rollup, row);
  };
  // Every model's rebuild counts every row and moves the mark to the last; one model's counts its rows up
  // to the mark (rows past it will be folded in later, with the other models' rows).
  const upTo = async () => (model === undefined ? Infinity : await foldedThrough(db));
  const through = await upTo();
  let lastId = 0;
  for (;;) {
    const page = await db.inferenceLog.where(':id').between(lastId, through, false, true).limit(pageSize).toArray();
    if (page.length === 0) break;
    lastId = page[page.length - 1]!.id!;
    page.forEach(count);
  }
  await db.transaction('rw', db.inferenceLog, db.rollups, db.settings, async () => {
    // Rows written (or folded in) while the pages were read.
    const rest = await db.inferenceLog.where(':id').between(lastId, await upTo(), false, true).toArray();
    rest.forEach(count);
    if (rest.length > 0) lastId = rest[rest.length - 1]!.id!;
    const minutes = [...byKey.values()];
    if (model === undefined) await db.rollups.clear();
    else await db.rollups.where('model').anyOf([model, hourKey(model)]).delete();
    await db.rollups.bulkPut([...minutes, ...hourlyOf(minutes)]);
    if (model === undefined && lastId > 0) await db.settings.put({ key: ROLLUPS_FOLDED_THROUGH, value: lastId });
  });
  return seen;
}

/**
 * Keeps a minute's feedback figures right when a row's feedback is set, changed or cleared: the old
 * answer's contribution is taken back and the new one's added.
 */
export async function applyFeedbackChange(db: LoupeDb, row: InferenceLogRow, next: string | number | undefined): Promise<void> {
  const keys: [string, number][] = [
    [row.model, minuteOf(row.ts)],
    [hourKey(row.model), hourOf(row.ts)],
  ];
  // A row from before rollups existed has no rollups yet; a rebuild will count it.
  const rollups = (await db.rollups.bulkGet(keys)).filter((r): r is RollupRow => r !== undefined);
  for (const rollup of rollups) {
    addFeedback(rollup, row.output, row.feedback, -1);
    addFeedback(rollup, row.output, next, 1);
  }
  await db.rollups.bulkPut(rollups);
}
