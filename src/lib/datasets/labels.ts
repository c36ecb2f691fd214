import type { TaskName } from '$lib/db/types';
import { TASKS } from '$lib/tasks/registry';

/** The earliest minting year accepted; the latest is the current year. */
export const MIN_YEAR = 1500;

export type LabelCheck = { ok: true; label: string | number } | { ok: false; reason: string };

/** Current year, read once per call so tests can fake the clock. */
export function maxYear(): number {
  return new Date().getFullYear();
}

/** A minting year: an integer (written without decimals) in 1500…current year. */
export function checkYear(raw: unknown): LabelCheck {
  const text = String(raw ?? '').trim();
  if (text === '') return { ok: false, reason: 'year is empty; expected an integer year' };
  if (!/^[+-]?\d+$/.test(text)) return { ok: false, reason: `year "${text}" is not an integer; expected a whole year like 1862` };
  const year = Number(text);
  const max = maxYear();
  if (year < MIN_YEAR || year > max) return { ok: false, reason: `year ${year} is outside the plausible range ${MIN_YEAR}…${max}` };
  return { ok: true, label: year };
}

/** A class label of a classification task: its name (any case) or its index (`0/1/2` for sentiment, as in tweet_eval). */
export function checkClass(raw: unknown, labels: readonly string[]): LabelCheck {
  const text = String(raw ?? '').trim().toLowerCase();
  if (text === '') return { ok: false, reason: `label is empty; expected one of ${labels.join(', ')}` };
  if (labels.includes(text)) return { ok: true, label: text };
  if (/^\d+$/.test(text) && Number(text) < labels.length) return { ok: true, label: labels[Number(text)]! };
  return { ok: false, reason: `unknown label "${String(raw).trim()}"; expected one of ${labels.join(', ')} or 0…${labels.length - 1}` };
}

/** The label check of a task: a minting year for the year regression, else a class of the task's preset. */
export function checkLabel(task: TaskName, raw: unknown): LabelCheck {
  const labels = taskLabels(task);
  return labels ? checkClass(raw, labels) : checkYear(raw);
}

/** The preset class names of a task (none for the year regression). */
export function taskLabels(task: TaskName): readonly string[] | undefined {
  return TASKS[task].presets[0]?.labels;
}
