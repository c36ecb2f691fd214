import type { LoupeDb } from '$lib/db/db';
import type { DatasetRow, InferenceLogRow, PipelineRow, SampleRow, TaskName } from '$lib/db/types';
import { DatasetValidationError } from '$lib/datasets/errors';
import { importCandidates } from '$lib/datasets/ingest';
import { checkLabel, type LabelCheck } from '$lib/datasets/labels';
import { declaredClassSet } from '$lib/datasets/label-sets';
import type { Candidate, SkippedItem } from '$lib/datasets/types';
import { shortVersion } from '$lib/datasets/version';
import { TASKS } from '$lib/tasks/registry';
import type { ProgressCallback } from '$lib/progress';

/**
 * The data half of a pipeline: which labelled data is new since the last run (samples of dataset
 * versions imported since, and inference-log rows that got feedback since), checking it, and adding
 * it to the base version as a new content-addressed version through the datasets module.
 */

export class PipelineDataError extends Error {
  override name = 'PipelineDataError';
}

/** The version a run starts from: the last one the pipeline trained on, else the configured one, else the task's newest. */
export async function baseDataset(db: LoupeDb, pipeline: PipelineRow): Promise<DatasetRow> {
  const wanted = pipeline.state?.datasetId ?? pipeline.config.baseDatasetId;
  if (wanted) {
    const row = await db.datasets.get(wanted);
    if (row) return row;
    if (pipeline.config.baseDatasetId && wanted === pipeline.config.baseDatasetId) {
      throw new PipelineDataError(`the pipeline's base dataset version ${shortVersion(wanted)} no longer exists: choose another in its config`);
    }
  }
  const newest = (await db.datasets.where('task').equals(pipeline.task).sortBy('createdAt')).at(-1);
  if (!newest) throw new PipelineDataError(`there is no ${pipeline.task} dataset to train on: import one (or load the demo data) on the Datasets page`);
  return newest;
}

/** Labelled log rows of the model whose feedback arrived in (since, until]. */
async function feedbackRows(db: LoupeDb, model: string, since: number, until: number): Promise<InferenceLogRow[]> {
  return db.inferenceLog
    .where('[model+ts]')
    .between([model, -Infinity], [model, until], true, true)
    .filter((row) => row.feedback !== undefined && row.feedback !== '' && (row.feedbackAt ?? row.ts) > since && (row.feedbackAt ?? row.ts) <= until)
    .toArray();
}

/** Dataset versions of the task created in (since, until], other than `exclude` (the base, versions pipelines made). */
async function newImports(db: LoupeDb, task: TaskName, since: number, until: number, exclude: Set<string>): Promise<DatasetRow[]> {
  const rows = await db.datasets.where('createdAt').between(since, until, false, true).toArray();
  return rows.filter((row) => row.task === task && !exclude.has(row.id));
}

/** Dataset versions made by any pipeline run of the model (never counted as new imports). */
async function pipelineMadeVersions(db: LoupeDb, model: string): Promise<Set<string>> {
  const runs = await db.pipelineRuns.where('model').equals(model).toArray();
  return new Set(runs.map((run) => run.artifacts.datasetVersion).filter((id): id is string => typeof id === 'string'));
}

export interface CollectedData {
  /** The version new data is added to; `labels`: its classes, which new labels must be one of. */
  base: { id: string; name: string; samples: number; labels?: string[] };
  since: number;
  until: number;
  /** Sample ids (of new imports) whose content the base lacks. */
  sampleIds: string[];
  /** Inference-log row ids with feedback. */
  logIds: number[];
  imports: { id: string; name: string }[];
}

/** Finds what is new for a pipeline in (since, until]. Reads ids only: blobs stay on disk. */
export async function collectNewData(db: LoupeDb, pipeline: PipelineRow, since: number, until: number): Promise<CollectedData> {
  const base = await baseDataset(db, pipeline);
  const exclude = await pipelineMadeVersions(db, pipeline.model);
  exclude.add(base.id);
  const imports = await newImports(db, pipeline.task, since, until, exclude);
  const known = new Set<string>();
  await db.samples.where('datasetId').equals(base.id).each((s) => void known.add(s.hash));
  const sampleIds: string[] = [];
  for (const version of imports) {
    await db.samples
      .where('datasetId')
      .equals(version.id)
      .each((s) => {
        if (known.has(s.hash)) return;
        known.add(s.hash);
        sampleIds.push(s.id);
      });
  }
  const logIds = (await feedbackRows(db, pipeline.model, since, until)).map((row) => row.id!);
  return { base: { id: base.id, name: base.name, samples: base.sampleCount, ...(base.labels ? { labels: base.labels } : {}) }, since, until, sampleIds, logIds, imports: imports.map(({ id, name }) => ({ id, name })) };
}

/**
 * How many labelled samples arrived since `since` (for the data trigger): feedback rows plus the
 * samples of newly imported versions (an addition counts only what it added to its parent).
 */
export async function countNewLabelled(db: LoupeDb, pipeline: PipelineRow, since: number, now: number): Promise<number> {
  const exclude = await pipelineMadeVersions(db, pipeline.model);
  if (pipeline.state?.datasetId) exclude.add(pipeline.state.datasetId);
  let count = (await feedbackRows(db, pipeline.model, since, now)).length;
  for (const version of await newImports(db, pipeline.task, since, now, exclude)) {
    const parent = version.parentId ? await db.datasets.get(version.parentId) : undefined;
    count += Math.max(0, version.sampleCount - (parent?.sampleCount ?? 0));
  }
  return count;
}

type Check = (raw: unknown) => LabelCheck;

/** The label check of new data: one of the base's classes where it lists them (any label set), else the task's. */
function labelCheck(task: TaskName, classes: readonly string[] | undefined): Check {
  if (!classes) return (raw) => checkLabel(task, raw);
  const set = declaredClassSet(classes);
  return (raw) => set.check(raw);
}

/** Checks one log row as a training example: a label the base accepts, and its input kept by retention. */
function logCandidate(task: TaskName, row: InferenceLogRow, check: Check): Candidate | SkippedItem {
  const item = `inference log row ${row.id} (${row.model} v${row.version})`;
  const label = check(row.feedback);
  if (!label.ok) return { item, reason: `feedback: ${label.reason}` };
  const source = `feedback:${row.id}`;
  const { input, serving } = TASKS[task];
  if (input === 'text') {
    if (typeof row.input.text !== 'string' || row.input.text.trim() === '') return { item, reason: 'input: the logged request has no text' };
    return { kind: 'text', item, path: `log/${row.id}`, text: row.input.text, label: label.label, source };
  }
  const sides = serving.fields.filter((f) => f.kind === 'image').map((f) => f.label);
  const wanted = sides.length;
  const images = row.input.images ?? [];
  if (images.length !== wanted) {
    return {
      item,
      reason: images.length === 0
        ? 'input: the image was not kept (log retention stores only its hash); raise image retention in Settings to learn from feedback'
        : `input: expected ${wanted} image(s), the log kept ${images.length}`,
    };
  }
  const files = images.map((file, i) => ({ path: `log/${row.id}${wanted > 1 ? `_${sides[i]}` : ''}.${file.type === 'image/jpeg' ? 'jpg' : 'png'}`, file }));
  return { kind: 'image', item, files, label: label.label, source };
}

/** A stored sample of a newly imported version as a candidate for the new version (its split kept). */
function sampleCandidate(row: SampleRow, check: Check): Candidate | SkippedItem {
  const item = `${row.path} (sample ${row.id})`;
  const label = check(row.label);
  if (!label.ok) return { item, reason: `label: ${label.reason}` };
  const split = row.split === 'unassigned' ? undefined : row.split;
  if (row.text !== undefined) return { kind: 'text', item, path: row.path, text: row.text, label: label.label, split, source: row.source ?? 'import' };
  const blobs = row.blobs ?? [];
  if (blobs.length === 0) return { item, reason: 'the sample has neither text nor images' };
  const files = blobs.map((file, i) => ({ path: row.paths?.[i] ?? `${row.path}#${i}`, file }));
  return { kind: 'image', item, files, label: label.label, split, source: row.source ?? 'import' };
}

export interface ValidatedData {
  candidates: Candidate[];
  report: SkippedItem[];
}

/** Reads the collected rows and checks each; invalid ones are reported with the reason, never fatal. */
export async function validateNewData(
  db: LoupeDb,
  task: TaskName,
  collected: Pick<CollectedData, 'sampleIds' | 'logIds'> & { base?: Pick<CollectedData['base'], 'labels'> },
): Promise<ValidatedData> {
  const check = labelCheck(task, collected.base?.labels);
  const candidates: Candidate[] = [];
  const report: SkippedItem[] = [];
  const take = (result: Candidate | SkippedItem) => ('kind' in result ? candidates.push(result) : report.push(result));
  for (let i = 0; i < collected.sampleIds.length; i += 256) {
    const rows = await db.samples.bulkGet(collected.sampleIds.slice(i, i + 256));
    rows.forEach((row, j) => (row ? take(sampleCandidate(row, check)) : report.push({ item: `sample ${collected.sampleIds[i + j]}`, reason: 'deleted since it was collected' })));
  }
  const logs = await db.inferenceLog.bulkGet(collected.logIds);
  logs.forEach((row, j) => (row ? take(logCandidate(task, row, check)) : report.push({ item: `inference log row ${collected.logIds[j]}`, reason: 'deleted since it was collected (log retention)' })));
  return { candidates, report };
}

export interface NewVersion {
  datasetId: string;
  name: string;
  /** Samples added to the base (0: the base is used as it is). */
  added: number;
  /** The same content was stored already. */
  existed: boolean;
  report: SkippedItem[];
}

/**
 * Adds checked candidates to the base as a new version (seeded splits for the new samples, splits of
 * imported ones kept). Content-addressed, so running it again after an interruption yields the same
 * version. With nothing new (or only duplicates) the base itself is the result.
 */
export async function addToBase(
  db: LoupeDb,
  pipeline: PipelineRow,
  baseId: string,
  data: ValidatedData,
  options: { seed: number; onProgress?: ProgressCallback },
): Promise<NewVersion> {
  const base = await db.datasets.get(baseId);
  if (!base) throw new PipelineDataError(`the base dataset version ${shortVersion(baseId)} no longer exists`);
  const unchanged: NewVersion = { datasetId: base.id, name: base.name, added: 0, existed: true, report: data.report };
  if (data.candidates.length === 0) return unchanged;
  try {
    const outcome = await importCandidates(
      db,
      // Labels were checked against the base's classes: the new version keeps them (none from a preset added).
      { task: pipeline.task, candidates: data.candidates, skipped: [...data.report], ...(base.labels ? { labels: base.labels } : {}) },
      {
        task: pipeline.task,
        name: `${base.name.replace(/ · \+\d+ new$/, '')} · +${data.candidates.length} new`,
        parentId: base.id,
        seed: options.seed,
        description: `Made by pipeline "${pipeline.name}": ${base.name} plus new imports and feedback.`,
        ...(base.synthetic ? { synthetic: true } : {}),
      },
      { onProgress: options.onProgress },
    );
    const added = outcome.dataset.sampleCount - base.sampleCount;
    return { datasetId: outcome.dataset.id, name: outcome.dataset.name, added, existed: outcome.existed, report: outcome.report };
  } catch (error) {
    // Every candidate was a duplicate of the base (or unreadable): train on the base as it is.
    if (error instanceof DatasetValidationError && error.message.startsWith('Nothing to import')) return { ...unchanged, report: [...data.report, { item: 'new data', reason: error.message }] };
    throw error;
  }
}
