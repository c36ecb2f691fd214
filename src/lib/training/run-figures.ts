import type { RunRow } from '$lib/db/types';

/** A run's recorded metrics by where they were measured. */
export interface RunFigures {
  /** `val_` metrics, named without the prefix: the validation split, after the reported epoch. */
  validation: [string, number][];
  /** Metrics on the training data (the reported epoch's running figures). */
  training: [string, number][];
  /** How many epochs ran (fewer than asked when early stopping ended the run). */
  epochsRun?: number;
}

/**
 * Splits a run's metrics into validation figures, training figures and the epochs it ran, so views
 * label each figure with where it comes from instead of listing `val_accuracy` beside `accuracy`.
 * @example runFigures({ val_accuracy: 0.9, accuracy: 0.97, epochs: 6 }) // { validation: [['accuracy', 0.9]], training: [['accuracy', 0.97]], epochsRun: 6 }
 */
export function runFigures(metrics: RunRow['metrics']): RunFigures {
  const figures: RunFigures = { validation: [], training: [] };
  for (const [key, value] of Object.entries(metrics ?? {})) {
    if (key === 'epochs') figures.epochsRun = value;
    else if (key.startsWith('val_')) figures.validation.push([key.slice(4), value]);
    else figures.training.push([key, value]);
  }
  return figures;
}

/**
 * A run's params as flat rows for a table: the model spec's fields become `model.dim`, … and what the
 * run row states elsewhere (task, dataset, seed, name) is left out, so each setting appears once.
 * @example flatParams({ task: 'sentiment', datasetId: 'd', seed: 1, epochs: 3, model: { architecture: 'fasttext', dim: 8 } })
 * // [['epochs', 3], ['model.architecture', 'fasttext'], ['model.dim', 8]]
 */
export function flatParams(params: RunRow['params']): [string, unknown][] {
  const rows: [string, unknown][] = [];
  for (const [key, value] of Object.entries(params)) {
    if (key === 'task' || key === 'datasetId' || key === 'seed' || key === 'name') continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as Record<string, unknown>)) rows.push([`${key}.${inner}`, v]);
    } else rows.push([key, value]);
  }
  return rows.sort(([a], [b]) => a.localeCompare(b));
}
