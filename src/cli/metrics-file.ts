import * as v from 'valibot';
import type { TaskName } from '$lib/db/specs';
import { canonicalTask, TASK_NAMES } from '$lib/tasks/names';
import { formatNumber } from '$lib/format';
import { describeIssue } from '$lib/registry/gate';
import { BadFormatError, WrongTaskError } from './errors';
import { readInputFile } from './files';

export type HeldOutSplit = 'test' | 'val';

/** Figures of one split: how many samples they stand on, and the metrics (names without `val_`). */
export interface SplitFigures {
  samples: number;
  metrics: Record<string, number>;
}

/**
 * What `loupe train` writes as `metrics.json` and `loupe gate` as `best_metrics.json`: figures that say
 * which split of which dataset version they were measured on.
 * @example { "split": "test", "samples": 1000, "metrics": { "accuracy": 0.71 }, "val": { "samples": 900, "metrics": { … } }, "task": "text-classification", "datasetVersion": "9f2c…" }
 */
export interface MetricsFile extends SplitFigures {
  /** The split `metrics` comes from: `test`, or `val` when the data has no test split (then `note` says so). */
  split: HeldOutSplit;
  task: TaskName;
  datasetVersion: string;
  /** `loupe train`: the validation split's figures of the epoch training kept. */
  val?: SplitFigures;
  note?: string;
}

/** The note of a `loupe train` whose data has no test split. */
export const NO_TEST_SPLIT =
  'the data has no test split: metrics are the val split\'s, which training validated on after every epoch (early stopping picks the epoch by it), so they are not an unseen-data score; give the data a test split (a test/ folder, a split column, or "splits" in the config) to score one';

const figures = v.object({
  samples: v.pipe(v.number(), v.integer(), v.minValue(0)),
  metrics: v.record(v.string(), v.pipe(v.number('must be a number'), v.finite('must be finite'))),
});
const MetricsFileSchema = v.looseObject({
  ...figures.entries,
  split: v.picklist(['test', 'val'], 'must be test or val'),
  // `loupe train` writes both; a gate's best_metrics.json of flat files may know neither. Earlier task
  // names (`sentiment`) read as today's.
  task: v.optional(v.pipe(v.unknown(), v.transform(canonicalTask), v.custom<TaskName>((task) => task !== undefined, `must be one of ${TASK_NAMES.join(', ')}`))),
  datasetVersion: v.optional(v.pipe(v.string(), v.nonEmpty())),
  val: v.optional(figures),
});
const FlatMetrics = v.record(v.string(), v.pipe(v.number(), v.finite()));

/** A metrics file read back: its figures by split, and what it says about where they come from. */
export interface RecordedMetrics {
  path: string;
  task?: TaskName;
  datasetVersion?: string;
  splits: Partial<Record<HeldOutSplit, { samples?: number; metrics: Record<string, number> }>>;
  /** A flat `{metric: value}` file of a `loupe train` that did not name splits yet (validation figures). */
  flat: boolean;
}

/**
 * Reads a metrics file: the split-named shape above, or the flat `{"accuracy": 0.73, …}` that older
 * `loupe train` versions wrote (their validation figures, with no split, sample count or dataset version).
 * @example const recorded = await readMetricsFile('out/metrics.json', '--candidate');
 */
export async function readMetricsFile(path: string, option: string): Promise<RecordedMetrics> {
  const text = new TextDecoder().decode(await readInputFile(path, option));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadFormatError(`${option} ${path} is not valid JSON (${(error as Error).message})`);
  }
  const flat = v.safeParse(FlatMetrics, value);
  if (flat.success && Object.keys(flat.output).length > 0) return { path, splits: { val: { metrics: flat.output } }, flat: true };
  const parsed = v.safeParse(MetricsFileSchema, value);
  if (!parsed.success) {
    throw new BadFormatError(`${option} ${path}: ${describeIssue(parsed.issues[0])} (expected the metrics.json of "loupe train": {"split", "samples", "metrics", "task", "datasetVersion"})`);
  }
  const file = parsed.output;
  const splits: RecordedMetrics['splits'] = { [file.split]: { samples: file.samples, metrics: file.metrics } };
  if (file.val && file.split !== 'val') splits.val = file.val;
  return { path, task: file.task, datasetVersion: file.datasetVersion, splits, flat: false };
}

/** What two recorded files (or one, for a first release) can be compared on. */
export interface RecordedComparison {
  task?: TaskName;
  split: HeldOutSplit;
  samples?: number;
  datasetVersion?: string;
  candidate: Record<string, number>;
  production?: Record<string, number>;
  notes: string[];
}

const short = (id: string) => id.slice(0, 12);

/**
 * Picks the figures of two metrics files that measure the same thing: the `test` split when both have
 * one, else `val`, of one dataset version. Files measured on different data, or with no split in
 * common, cannot be compared fairly and are refused; a flat (older) file is read as validation figures
 * whose data cannot be checked, and the notes say so.
 */
export function compareRecorded(candidate: RecordedMetrics, production: RecordedMetrics | undefined): RecordedComparison {
  const files = production ? [candidate, production] : [candidate];
  const tasks = [...new Set(files.map((f) => f.task).filter((t) => t !== undefined))];
  if (tasks.length > 1) throw new WrongTaskError(`${candidate.path} holds ${candidate.task} metrics but ${production!.path} holds ${production!.task} metrics; the gate compares models of one task`);
  const split = (['test', 'val'] as const).find((s) => files.every((f) => f.splits[s]));
  if (!split) {
    throw new BadFormatError(`${candidate.path} and ${production!.path} share no split (${candidate.path}: ${Object.keys(candidate.splits).join(', ')}; ${production!.path}: ${Object.keys(production!.splits).join(', ')}), so their figures cannot be compared`);
  }
  const versions = [...new Set(files.map((f) => f.datasetVersion).filter((d) => d !== undefined))];
  if (versions.length > 1) {
    throw new BadFormatError(
      `${candidate.path} was measured on dataset version ${short(versions[0]!)} and ${production!.path} on ${short(versions[1]!)}: figures of different data cannot be compared. ` +
        'Measure both bundles on the same data instead: loupe gate --candidate new.zip --production prod.zip --eval <data>',
    );
  }
  const notes = files
    .filter((f) => f.flat)
    .map((f) => `${f.path} is a flat metrics file of an older "loupe train" (no split, sample count or dataset version): read as its validation figures`);
  if (files.some((f) => f.flat) && production) notes.push('whether both files were measured on the same data cannot be checked');
  if (split === 'val') {
    const noTest = files.filter((f) => !f.splits.test).map((f) => f.path);
    notes.push(`compared on the val split, since ${noTest.join(' and ')} hold${noTest.length === 1 ? 's' : ''} no test figures: early stopping chose the epoch on it, so it is not an unseen-data score`);
  }
  const samples = files.map((f) => f.splits[split]!.samples).find((n) => n !== undefined);
  return {
    task: tasks[0],
    split,
    samples,
    datasetVersion: versions[0],
    candidate: candidate.splits[split]!.metrics,
    production: production?.splits[split]!.metrics,
    notes,
  };
}

/** `accuracy 0.7115, macroF1 0.7, loss 0.61` for a log line. */
export function describeMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([name, value]) => `${name} ${formatNumber(value)}`)
    .join(', ');
}
