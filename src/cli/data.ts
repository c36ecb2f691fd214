import type { LoupeDb } from '$lib/db/db';
import type { DatasetRow, TaskName } from '$lib/db/types';
import { DatasetValidationError } from '$lib/datasets/errors';
import { importUpload } from '$lib/datasets/ingest';
import type { SplitFractions } from '$lib/datasets/types';
import { TASKS } from '$lib/tasks/registry';
import { BadFormatError, WrongTaskError } from './errors';
import { nameOf, uploadEntries } from './files';
import { sharpProcessor } from './images';
import { ProgressPrinter, type CliIo } from './progress';

/**
 * Imports a dataset path (folder, zip, or manifest file) for a task with the studio's import: the same
 * parsers, checks, splits and content-addressed version id. Skipped items are listed on stderr.
 */
export async function importData(
  db: LoupeDb,
  io: CliIo,
  path: string,
  task: TaskName,
  options: { option: string; preset?: string; seed?: number; fractions?: SplitFractions; evaluationSet?: boolean; imageMaxSide?: number },
): Promise<DatasetRow> {
  // A manifest named as a file brings the files it references (images), found from its own folder.
  const entries = await uploadEntries(path, options.option, { references: TASKS[task].input !== 'text' });
  const progress = new ProgressPrinter(io, 1);
  try {
    const { dataset, report, notes } = await importUpload(
      db,
      entries,
      {
        task,
        preset: options.preset,
        name: nameOf(path),
        seed: options.seed,
        fractions: options.fractions,
        evaluationSet: options.evaluationSet,
        ...(options.imageMaxSide ? { image: { maxSide: options.imageMaxSide } } : {}),
      },
      { processor: sharpProcessor, onProgress: progress.onEvent },
    );
    progress.finish();
    const splits = Object.entries(dataset.splits ?? {}).map(([split, n]) => `${split} ${n}`).join(', ');
    io.err(`${options.option} ${path}: ${dataset.sampleCount} ${task} samples (${splits}), dataset version ${dataset.id.slice(0, 12)}\n`);
    for (const note of notes) io.err(`${note}\n`);
    if (report.length > 0) {
      io.err(`${report.length} item(s) skipped:\n${report.slice(0, 10).map((s) => `  ${s.item}: ${s.reason}\n`).join('')}${report.length > 10 ? `  … and ${report.length - 10} more\n` : ''}`);
    }
    return dataset;
  } catch (error) {
    progress.finish();
    if (error instanceof DatasetValidationError) {
      const message = `${options.option} ${path}: ${error.message}`;
      throw error.field === 'task' ? new WrongTaskError(message) : new BadFormatError(message);
    }
    throw error;
  }
}

