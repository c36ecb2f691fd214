import type { Split, TaskName } from '$lib/db/types';
import { sha256Hex } from '$lib/hash';

/** What a dataset version's id is computed from, per sample. */
export interface VersionedSample {
  hash: string;
  label: string | number;
  split: Split;
  fold?: number;
}

/**
 * The task as version ids spell it: image classification keeps the name it had when ids were first
 * computed (`car-damage`), so every dataset version, export and lineage keeps its id.
 */
const ID_TASK_NAME: Partial<Record<TaskName, string>> = { 'image-classification': 'car-damage' };

/**
 * A dataset version's id: SHA-256 over the task and the sorted (sample hash, label, split, fold)
 * lines. Same content ⇒ same id, in any order; any change of a sample, label, split or fold ⇒ a new id.
 * Labels are JSON-encoded so the year 1900 and the text "1900" differ.
 * @example await datasetVersionId('sentiment', [{ hash, label: 'positive', split: 'train' }])
 */
export async function datasetVersionId(task: TaskName, samples: readonly VersionedSample[]): Promise<string> {
  const lines = samples.map((s) => `${s.hash}\t${JSON.stringify(s.label)}\t${s.split}\t${s.fold ?? ''}`).sort();
  return sha256Hex(`loupe-dataset-version 1\n${ID_TASK_NAME[task] ?? task}\n${lines.join('\n')}`);
}

/** The first 12 hex digits of a version id, for lists. */
export function shortVersion(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
