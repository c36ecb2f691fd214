import type { LoupeDb } from '$lib/db/db';
import type { InferenceLogRow, ModelVersionRow, RollupRow, SampleRow, Split, TaskName } from '$lib/db/types';
import type { Predictor, ServingInput } from '$lib/serving/types';
import { MissingInputError } from '$lib/tasks/errors';
import { sampleToInput } from '$lib/tasks/loaded';
import { TASKS, taskOfVersion } from '$lib/tasks/registry';
import { addRow, emptyRollup } from './rollups';
import { sampleStatistics, words } from './stats';

/**
 * What a version's predictions and inputs look like on its evaluation data: the baseline drift is
 * measured against. Captured once per version (at registration while the studio is open, else the first
 * time the Monitor needs it) and kept in `settings`.
 */
export interface ReferenceProfile {
  model: string;
  version: number;
  task?: TaskName;
  /** The dataset version and split the reference was measured on. */
  datasetId: string;
  split: Split;
  createdAt: number;
  /** Predictions, confidences and input statistics of the evaluation samples, in rollup bins. */
  summary: RollupRow;
  /** Words of the dataset's training split (text tasks): the out-of-vocabulary rate's vocabulary. */
  vocabulary: string[];
}

export class ReferenceUnavailableError extends Error {
  override name = 'ReferenceUnavailableError';
}

export const referenceKey = (model: string, version: number) => `monitoring:reference:${model}@${version}`;

export async function loadReference(db: LoupeDb, model: string, version: number): Promise<ReferenceProfile | undefined> {
  return (await db.settings.get(referenceKey(model, version)))?.value as ReferenceProfile | undefined;
}

export async function saveReference(db: LoupeDb, profile: ReferenceProfile): Promise<void> {
  await db.settings.put({ key: referenceKey(profile.model, profile.version), value: profile });
  vocabularies.delete(referenceKey(profile.model, profile.version));
}

/**
 * At most this many evaluation samples make a reference (Evidently's "small reference" size); fewer for
 * images, whose predictions share the inference worker with live requests.
 */
export const REFERENCE_SAMPLES = 1000;
export const IMAGE_REFERENCE_SAMPLES = 200;
const VOCABULARY_LIMIT = 50_000;

async function evaluationSamples(db: LoupeDb, datasetId: string, limit: number): Promise<{ split: Split; samples: SampleRow[] }> {
  for (const split of ['test', 'val'] as Split[]) {
    const samples = await db.samples.where('[datasetId+split]').equals([datasetId, split]).limit(limit).toArray();
    if (samples.length) return { split, samples };
  }
  throw new ReferenceUnavailableError(`dataset version ${datasetId} has no test or val samples to measure a reference on`);
}

async function vocabularyOf(db: LoupeDb, datasetId: string): Promise<string[]> {
  const vocabulary = new Set<string>();
  await db.samples
    .where('[datasetId+split]')
    .equals([datasetId, 'train'])
    .until(() => vocabulary.size >= VOCABULARY_LIMIT)
    .each((sample) => {
      if (typeof sample.text === 'string') for (const word of words(sample.text)) vocabulary.add(word);
    });
  return [...vocabulary];
}

async function servingInput(task: TaskName, sample: SampleRow): Promise<ServingInput> {
  try {
    return await sampleToInput(TASKS[task], sample);
  } catch (error) {
    if (error instanceof MissingInputError) throw new ReferenceUnavailableError(error.message);
    throw error;
  }
}

/** The evaluation data of a version's reference: found (or refused, saying why) before any model is loaded. */
export interface ReferenceData {
  task: TaskName;
  datasetId: string;
  split: Split;
  samples: SampleRow[];
}

export async function referenceData(db: LoupeDb, version: ModelVersionRow): Promise<ReferenceData> {
  const task = taskOfVersion(version);
  if (!task) throw new ReferenceUnavailableError(`${version.name} v${version.version} does not say which task it serves`);
  const datasetId = version.lineage?.datasetVersion;
  if (typeof datasetId !== 'string' || datasetId === '') {
    throw new ReferenceUnavailableError(`${version.name} v${version.version} has no dataset version in its lineage to take a reference from`);
  }
  const { split, samples } = await evaluationSamples(db, datasetId, TASKS[task].input === 'text' ? REFERENCE_SAMPLES : IMAGE_REFERENCE_SAMPLES);
  return { task, datasetId, split, samples };
}

/**
 * Measures a version's reference on the held-out split (test, else val) of the dataset version it was
 * trained on: its predictions and confidences, and the samples' input statistics.
 * @example const profile = await measureReference(db, versionRow, predictor); await saveReference(db, profile);
 */
export async function measureReference(
  db: LoupeDb,
  version: ModelVersionRow,
  predictor: Pick<Predictor, 'predict'>,
  options: { now?: number; chunk?: number; data?: ReferenceData } = {},
): Promise<ReferenceProfile> {
  const { task, datasetId, split, samples } = options.data ?? (await referenceData(db, version));
  const vocabulary = TASKS[task].input === 'text' ? await vocabularyOf(db, datasetId) : [];
  const vocabularySet = new Set(vocabulary);
  const summary = emptyRollup(version.name, 0, task);
  const chunk = options.chunk ?? 32;
  for (let start = 0; start < samples.length; start += chunk) {
    const part = samples.slice(start, start + chunk);
    const inputs = await Promise.all(part.map((sample) => servingInput(task, sample)));
    const predictions = await predictor.predict(inputs);
    for (let i = 0; i < part.length; i++) {
      const prediction = predictions[i]!;
      const row: InferenceLogRow = {
        ts: 0,
        model: version.name,
        version: version.version,
        task,
        source: 'pipeline',
        input: {},
        output: prediction,
        ...(prediction.kind === 'classification' ? { score: prediction.score } : {}),
        latencyMs: 0,
        backend: 'cpu',
        stats: await sampleStatistics(part[i]!, vocabularySet),
      };
      addRow(summary, row);
    }
  }
  return { model: version.name, version: version.version, task, datasetId, split, createdAt: options.now ?? Date.now(), summary, vocabulary };
}

/** Vocabulary per `model@version` for the logger's OOV rate; a missing reference is looked up again after a while. */
const vocabularies = new Map<string, Promise<ReadonlySet<string> | undefined>>();
const MISSING_RETRY_MS = 30_000;

/**
 * The vocabulary of a version's reference (cached), or undefined while it has none.
 * @example const vocabulary = await referenceVocabulary(db, 'sentiment', 2);
 */
export function referenceVocabulary(db: LoupeDb, model: string, version: number): Promise<ReadonlySet<string> | undefined> {
  const key = referenceKey(model, version);
  const cached = vocabularies.get(key);
  if (cached) return cached;
  const words = loadReference(db, model, version).then((profile) => {
    if (!profile) setTimeout(() => vocabularies.get(key) === words && vocabularies.delete(key), MISSING_RETRY_MS);
    return profile?.vocabulary.length ? new Set(profile.vocabulary) : undefined;
  });
  words.catch(() => vocabularies.delete(key));
  vocabularies.set(key, words);
  return words;
}
