import type { LoupeDb } from '$lib/db/db';
import type { DatasetRow, SampleRow, Split, TaskName } from '$lib/db/types';
import { pickSubset, type SubsetOptions } from './splits';
import type { SkippedItem } from './types';
import { datasetVersionId, reimportedVersionId } from './version';

/**
 * Dataset storage. An import writes its samples in chunks under a staging dataset id (no dataset row
 * points at them, so no page lists them), then one transaction gives them their version id and adds
 * the dataset row: a version is stored fully or not at all. A failed or cancelled import deletes its
 * staged rows; `sweepStaleStaging` removes those of a tab that was closed mid-import.
 */

const STAGING = 'staging:';

export interface StagingToken {
  datasetId: string;
  prefix: string;
}

export function newStagingToken(now: number): StagingToken {
  const random = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
  return { datasetId: `${STAGING}${now}:${random}`, prefix: `s${now.toString(36)}${random}` };
}

/** A stored sample's identity while its import finishes. */
export interface StagedSample {
  id: string;
  hash: string;
  label: string | number;
  split?: Split;
  fold?: number;
}

export async function discardStaging(db: LoupeDb, stagingId: string): Promise<void> {
  await db.samples.where('datasetId').equals(stagingId).delete();
}

/** Deletes staged samples of imports that started more than `olderThanMs` ago (default a day) and never finished. */
export async function sweepStaleStaging(db: LoupeDb, now = Date.now(), olderThanMs = 86_400_000): Promise<number> {
  const ids = (await db.samples.where('datasetId').startsWith(STAGING).uniqueKeys()) as string[];
  let removed = 0;
  for (const id of ids) {
    const started = Number(id.slice(STAGING.length).split(':')[0]);
    if (Number.isFinite(started) && now - started > olderThanMs) removed += await db.samples.where('datasetId').equals(id).delete();
  }
  return removed;
}

export interface VersionFields {
  task: TaskName;
  name: string;
  createdAt: number;
  parent?: DatasetRow;
  synthetic?: boolean;
  description?: string;
  demo?: string;
  /** The label preset the data was imported under (`car-damage`), for titles and model names. */
  preset?: string;
  labels?: string[];
  /** The id a re-imported Loupe export recorded (see `reimportedVersionId`). */
  exportedId?: string;
  seed: number;
  report: SkippedItem[];
  origin?: DatasetRow['origin'];
}

function splitCounts(samples: { split: Split }[]): Partial<Record<Split, number>> {
  const counts: Partial<Record<Split, number>> = {};
  for (const { split } of samples) counts[split] = (counts[split] ?? 0) + 1;
  return counts;
}

/**
 * Turns staged samples (plus, with a parent, copies of the parent's samples) into a dataset version
 * in one transaction. When a version with the same id exists, the staged rows are dropped instead.
 */
export async function finalizeStaged(
  db: LoupeDb,
  token: StagingToken,
  staged: StagedSample[],
  fields: VersionFields,
): Promise<{ dataset: DatasetRow; existed: boolean }> {
  const parentSamples = fields.parent
    ? (await db.samples.where('datasetId').equals(fields.parent.id).toArray()).map((s) => ({ id: s.id, hash: s.hash, label: s.label, split: s.split, fold: s.fold }))
    : [];
  const all = [...parentSamples, ...staged.map((s) => ({ ...s, split: s.split ?? 'unassigned' }))];
  const id = await reimportedVersionId(fields.task, all, fields.labels, fields.exportedId);
  return db.transaction('rw', db.datasets, db.samples, async () => {
    const existing = await db.datasets.get(id);
    if (existing) {
      await db.samples.where('datasetId').equals(token.datasetId).delete();
      return { dataset: existing, existed: true };
    }
    const byId = new Map(staged.map((s) => [s.id, s]));
    await db.samples
      .where('datasetId')
      .equals(token.datasetId)
      .modify((row) => {
        const s = byId.get(row.id)!;
        row.datasetId = id;
        row.split = s.split ?? 'unassigned';
        if (s.fold === undefined) delete row.fold;
        else row.fold = s.fold;
      });
    if (fields.parent) {
      // Versions are immutable: the new version gets its own rows (sharing the parent's blobs).
      let n = 0;
      const pageSize = 256;
      for (let offset = 0; ; offset += pageSize) {
        const page = await db.samples.where('datasetId').equals(fields.parent.id).offset(offset).limit(pageSize).toArray();
        if (page.length === 0) break;
        await db.samples.bulkAdd(page.map((row) => ({ ...row, id: `${token.prefix}-p${n++}`, datasetId: id })));
      }
    }
    const dataset: DatasetRow = {
      id,
      name: fields.name,
      task: fields.task,
      createdAt: fields.createdAt,
      sampleCount: all.length,
      report: fields.report,
      splits: splitCounts(all),
      seed: fields.seed,
      origin: fields.origin ?? (fields.demo ? 'demo' : fields.parent ? 'addition' : 'import'),
      ...(fields.parent ? { parentId: fields.parent.id } : {}),
      ...(fields.synthetic ? { synthetic: true } : {}),
      ...(fields.description ? { description: fields.description } : {}),
      ...(fields.demo ? { demo: fields.demo } : {}),
      ...(fields.preset ? { preset: fields.preset } : {}),
      ...(fields.labels ? { labels: fields.labels } : {}),
    };
    await db.datasets.add(dataset);
    return { dataset, existed: false };
  });
}

/** Every sample of a version (with blobs: Dexie hands out Blob handles, not their bytes). */
export function samplesOf(db: LoupeDb, datasetId: string): Promise<SampleRow[]> {
  return db.samples.where('datasetId').equals(datasetId).toArray();
}

/** Deletes a version and its samples (other versions keep their own rows). */
export async function deleteDataset(db: LoupeDb, id: string): Promise<void> {
  await db.transaction('rw', db.datasets, db.samples, async () => {
    await db.samples.where('datasetId').equals(id).delete();
    await db.datasets.delete(id);
  });
}

/**
 * A reproducible subset of a version as a new version (its `parentId` is the source): `trainSize`
 * samples of the train split and `evalSize` of the validation split (see `pickSubset`), stratified by
 * label. The chosen eval samples become the subset's `val` split.
 * @example await createSubset(db, tweetEvalId, { trainSize: 1000, evalSize: 200, seed: 42 })
 */
export async function createSubset(db: LoupeDb, sourceId: string, options: SubsetOptions, now = Date.now()): Promise<{ dataset: DatasetRow; existed: boolean }> {
  const source = await db.datasets.get(sourceId);
  if (!source) throw new Error(`dataset version ${sourceId} does not exist`);
  const rows = await samplesOf(db, sourceId);
  const chosen = pickSubset(rows.map((r) => ({ key: r.hash, label: r.label, split: r.split })), options);
  const train = new Set(chosen.train);
  const evalKeys = new Set(chosen.eval);
  const picked = rows.filter((r) => train.has(r.hash) || evalKeys.has(r.hash)).map((r) => ({ ...r, split: (train.has(r.hash) ? 'train' : 'val') as Split, fold: undefined }));
  if (picked.length === 0) throw new Error(`the subset of ${source.name} would be empty (train ${options.trainSize}, eval ${options.evalSize})`);
  const id = await datasetVersionId(source.task, picked, source.labels);
  return db.transaction('rw', db.datasets, db.samples, async () => {
    const existing = await db.datasets.get(id);
    if (existing) return { dataset: existing, existed: true };
    const prefix = `sub${now.toString(36)}`;
    await db.samples.bulkAdd(picked.map((r, i) => ({ ...r, id: `${prefix}-${i}`, datasetId: id })));
    const dataset: DatasetRow = {
      id,
      name: `${source.name} · subset ${chosen.train.length}/${chosen.eval.length} seed ${options.seed}`,
      task: source.task,
      createdAt: now,
      parentId: source.id,
      sampleCount: picked.length,
      splits: splitCounts(picked),
      seed: options.seed,
      origin: 'subset',
      subset: { ...options, evalFrom: chosen.evalFrom },
      ...(source.synthetic ? { synthetic: true } : {}),
      ...(source.preset ? { preset: source.preset } : {}),
      ...(source.labels ? { labels: source.labels } : {}),
    };
    await db.datasets.add(dataset);
    return { dataset, existed: false };
  });
}
