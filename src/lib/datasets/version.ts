import type { Split, TaskName } from '$lib/db/types';
import { sha256Hex } from '$lib/hash';
import { TASKS } from '$lib/tasks/registry';

/** What a dataset version's id is computed from, per sample. */
export interface VersionedSample {
  hash: string;
  label: string | number;
  split: Split;
  fold?: number;
}

/**
 * The task as version ids spell it: image and text classification keep the names they had when ids
 * were first computed (`car-damage`, `sentiment`), so every dataset version, export and lineage keeps its id.
 */
const ID_TASK_NAME: Partial<Record<TaskName, string>> = { 'image-classification': 'car-damage', 'text-classification': 'sentiment' };

const collator = new Intl.Collator('en', { numeric: true });

/**
 * The class list that ids made before class lists were part of them stood for, read from the labels
 * alone: the task's preset when every label is one of its names (the preset was then the class list
 * of every such upload), else the distinct labels in natural order (an upload with its own classes).
 */
export function impliedClasses(task: TaskName, samples: readonly VersionedSample[]): string[] | undefined {
  const preset = TASKS[task].presets[0]?.labels;
  if (!preset) return undefined;
  const labels = [...new Set(samples.map((s) => String(s.label)))];
  return labels.every((l) => preset.includes(l)) ? [...preset] : labels.sort(collator.compare);
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A dataset version's id: SHA-256 over the task, the class list and the sorted (sample hash, label,
 * split, fold) lines. Same content ⇒ same id, in any order; any change of a sample, label, split, fold
 * or class list ⇒ a new id. Labels are JSON-encoded so the year 1900 and the text "1900" differ.
 *
 * The class list (ordered) is hashed only where it differs from the one the labels imply
 * (`impliedClasses`). Ids are stored and referenced by runs, model versions, lineage and exports, and
 * were first computed without the class list: every version whose classes are what its labels implied
 * then — a preset-labelled set with the full preset, a set with its own class names — keeps its id,
 * and exports of it re-import to the same version. What gets a new id is what the old ids could not
 * tell apart: `negative`/`positive` texts as 2 classes vs as the 3-class preset.
 * @example await datasetVersionId('text-classification', [{ hash, label: 'positive', split: 'train' }], ['negative', 'positive'])
 */
export async function datasetVersionId(task: TaskName, samples: readonly VersionedSample[], classes?: readonly string[]): Promise<string> {
  const lines = samples.map((s) => `${s.hash}\t${JSON.stringify(s.label)}\t${s.split}\t${s.fold ?? ''}`).sort();
  const implied = classes ? impliedClasses(task, samples) : undefined;
  // One tab, JSON-escaped names: this line can never read as a sample line (three tabs).
  const classLine = classes && !(implied && sameList(classes, implied)) ? `classes\t${JSON.stringify(classes)}\n` : '';
  return sha256Hex(`loupe-dataset-version 1\n${ID_TASK_NAME[task] ?? task}\n${classLine}${lines.join('\n')}`);
}

/**
 * The id of a re-imported Loupe export: its recorded id when the export was written before ids covered
 * the class list and its content hashes to that id the old way (a 0/1 sentiment set: 2 classes, whose
 * old id did not say so), else `datasetVersionId`. Content that changed still gets a new id.
 */
export async function reimportedVersionId(task: TaskName, samples: readonly VersionedSample[], classes: readonly string[] | undefined, recorded: string | undefined): Promise<string> {
  const id = await datasetVersionId(task, samples, classes);
  if (recorded === undefined || recorded === id || classes === undefined) return id;
  return (await datasetVersionId(task, samples)) === recorded ? recorded : id;
}

/** The first 12 hex digits of a version id, for lists. */
export function shortVersion(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
