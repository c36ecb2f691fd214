import { formatBytes } from '$lib/bytes';
import type { LoupeDb } from '$lib/db/db';
import { asStorageFull } from '$lib/db/quota';
import type { DatasetRow, SampleRow, TaskName } from '$lib/db/types';
import { sha256Hex } from '$lib/hash';
import type { ProgressCallback } from '$lib/progress';
import { DatasetValidationError, throwIfCancelled } from './errors';
import { ImageFormatError, inspectImage } from './image-format';
import { DEFAULT_IMAGE_OPTIONS, defaultImageProcessor, ImageDecodeError, type ImageProcessor, type ImageStoreOptions } from './image-processor';
import { taskLabels } from './labels';
import { mergeClasses } from './label-sets';
import { parseUpload } from './parsers';
import { assignFolds, assignSplits, DEFAULT_FRACTIONS, DEFAULT_YEAR_BIN } from './splits';
import { discardStaging, finalizeStaged, newStagingToken, type StagedSample } from './store';
import type { Candidate, InputEntry, ParseResult, SkippedItem, SplitFractions } from './types';
import { expandUpload, type ZipLimits } from './zip';

export interface ImportOptions {
  task: TaskName;
  /** Shown in lists; defaults to the upload's folder or zip name. */
  name: string;
  /** Seed of the split (and fold) assignment (default 42). */
  seed?: number;
  fractions?: SplitFractions;
  /** `keep` (default): splits the upload names are kept and the rest assigned; `random`: all assigned. */
  splitMode?: 'keep' | 'random';
  /**
   * An evaluation set (`loupe gate --eval`): an upload that names no split is held out whole (every
   * sample `test`); one that names splits keeps them, and its samples without one go to `train`, never
   * into the held-out data. Replaces `fractions`.
   */
  evaluationSet?: boolean;
  /** Years are stratified in bins of this many years (default 10). */
  yearBin?: number;
  /** Also assign k folds (stratified) to every sample. */
  kFolds?: number;
  image?: Partial<ImageStoreOptions>;
  /** Store the original files beside resized images (`SampleRow.originals`). */
  keepOriginals?: boolean;
  /** Adds this import to an existing version: the result is a new version with `parentId`. */
  parentId?: string;
  synthetic?: boolean;
  description?: string;
  /** Marks a built-in demo dataset (see demo/install.ts). */
  demo?: string;
  /** The label preset chosen for the import (`car-damage`): it names and orders the classes. */
  preset?: string;
  /** Samples checked and stored per transaction (default 32). */
  chunkSize?: number;
  /** Images decoded at the same time (default 4): a decoded 12-megapixel photo takes ~48 MB. */
  concurrency?: number;
  zipLimits?: Partial<ZipLimits>;
  imageLimits?: Partial<ImageLimits>;
}

/** Limits that keep one image from exhausting a tab's memory; a file over them is skipped with the reason. */
export interface ImageLimits {
  /** Largest image file read (default 64 MiB, the same as a zip entry's cap). */
  maxBytes: number;
  /** Most pixels decoded (default 50 megapixels: ~200 MB as RGBA; the models use at most a few hundred px a side). */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 64 * 2 ** 20, maxPixels: 50_000_000 };

export interface ImportContext {
  processor?: ImageProcessor;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  now?: () => number;
}

export interface ImportOutcome {
  dataset: DatasetRow;
  /** The same content was stored already (same version id); nothing new was written. */
  existed: boolean;
  /** Every item left out, with its reason. */
  report: SkippedItem[];
  /** The version id recorded in an imported Loupe export (compare with `dataset.id`). */
  exportedId?: string;
  /** What the import decided for the user, in words (a validation split carved from train). */
  notes: string[];
}

/**
 * Imports an upload end to end: unpacks zips (with zip-bomb and path guards), parses it for the task,
 * checks every item, stores valid samples chunk by chunk, assigns splits, and creates a content-addressed
 * version — all of it or nothing. Invalid items never block valid ones; each is reported with its reason.
 * @example const { dataset, report } = await importUpload(db, files, { task: 'image-classification', preset: 'car-damage', name: 'cars' });
 */
export async function importUpload(db: LoupeDb, input: InputEntry[], options: ImportOptions, context: ImportContext = {}): Promise<ImportOutcome> {
  const { onProgress, signal } = context;
  onProgress?.({ kind: 'progress', label: 'Reading files', done: 0, total: input.length });
  const expanded = await expandUpload(input, {
    limits: options.zipLimits,
    signal,
    onZip: (name) => onProgress?.({ kind: 'log', level: 'info', message: `Unpacking ${name}` }),
  });
  throwIfCancelled(signal);
  if (expanded.entries.length === 0) {
    const reasons = expanded.skipped.slice(0, 5).map((s) => `${s.item}: ${s.reason}`);
    throw new DatasetValidationError(`The upload has no files to import${reasons.length ? ` (${reasons.join('; ')})` : ''}.`);
  }
  // An addition reads its labels as its parent was read (the sentiment preset's 0/1/2, say).
  const preset = options.preset ?? (options.parentId ? (await db.datasets.get(options.parentId))?.preset : undefined);
  const parsed = await parseUpload(options.task, expanded.entries, preset);
  parsed.skipped.unshift(...expanded.skipped);
  return importCandidates(db, parsed, options, context);
}

interface Checked {
  candidate: Candidate;
  hash?: string;
  reason?: string;
  row?: Omit<SampleRow, 'id' | 'datasetId' | 'split'>;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function checkImage(entry: InputEntry, processor: ImageProcessor, image: ImageStoreOptions, limits: ImageLimits) {
  // Refused before reading: a huge file is never loaded, let alone decoded.
  if (entry.file.size > limits.maxBytes) {
    throw new ImageFormatError(`too large: ${formatBytes(entry.file.size)}, more than the ${formatBytes(limits.maxBytes)} an image may have; downscale or re-encode it first`);
  }
  const bytes = new Uint8Array(await entry.file.arrayBuffer());
  const info = inspectImage(bytes); // throws ImageFormatError with the reason
  // The header's size decides the decoder's allocation: a small file may declare a gigapixel (an image bomb).
  if (info.width * info.height > limits.maxPixels) {
    const megapixels = (n: number) => `${(n / 1e6).toFixed(1).replace(/\.0$/, '')} megapixels`;
    throw new ImageFormatError(
      `too many pixels: ${info.width}×${info.height} (${megapixels(info.width * info.height)}), more than the ${megapixels(limits.maxPixels)} Loupe decodes; downscale it first`,
    );
  }
  const processed = await processor.process(bytes, info, image);
  const hash = processed.resized ? await sha256Hex(await processed.blob.arrayBuffer()) : await sha256Hex(bytes);
  return { entry, processed, hash, bytes: processed.blob.size, originalBytes: bytes.length };
}

async function checkCandidate(candidate: Candidate, processor: ImageProcessor, options: ImportOptions, image: ImageStoreOptions): Promise<Checked> {
  if (candidate.kind === 'text') {
    return {
      candidate,
      hash: await sha256Hex(candidate.text),
      row: { label: candidate.label, hash: '', path: candidate.path, text: candidate.text, source: candidate.source, bytes: new TextEncoder().encode(candidate.text).length },
    };
  }
  const sides = candidate.files.length === 2 ? ['front', 'back'] : [''];
  const images = [];
  for (const [i, entry] of candidate.files.entries()) {
    try {
      images.push(await checkImage(entry, processor, image, { ...DEFAULT_IMAGE_LIMITS, ...options.imageLimits }));
    } catch (error) {
      const what = sides[i] ? `${sides[i]} image ${entry.path}` : entry.path;
      const reason = error instanceof ImageFormatError || error instanceof ImageDecodeError ? error.message : `unreadable (${describe(error)})`;
      return { candidate, reason: `${candidate.files.length === 2 ? `${what}: ` : ''}${reason}` };
    }
  }
  const hash = images.length === 1 ? images[0]!.hash : await sha256Hex(images.map((i) => i.hash).join('+'));
  const first = images[0]!;
  return {
    candidate,
    hash,
    row: {
      label: candidate.label,
      hash: '',
      path: first.entry.path,
      paths: images.map((i) => i.entry.path),
      source: candidate.source,
      width: first.processed.width,
      height: first.processed.height,
      bytes: images.reduce((n, i) => n + i.bytes, 0),
      sizes: images.map((i) => ({ width: i.processed.width, height: i.processed.height })),
      originalSizes: images.map((i) => ({ width: i.processed.original.width, height: i.processed.original.height, bytes: i.originalBytes })),
      blobs: images.map((i) => i.processed.blob),
      ...(options.keepOriginals && images.some((i) => i.processed.resized) ? { originals: images.map((i) => new Blob([i.entry.file], { type: i.processed.original.mime })) } : {}),
    },
  };
}

/**
 * Checks and stores parsed candidates (uploads and the demo generators both end here). Images are
 * read, checked and decoded one chunk at a time and written before the next chunk is read, so memory
 * holds one chunk of images, never the whole import.
 */
export async function importCandidates(db: LoupeDb, parsed: ParseResult, options: ImportOptions, context: ImportContext = {}): Promise<ImportOutcome> {
  const { onProgress, signal } = context;
  const processor = context.processor ?? defaultImageProcessor();
  const image = { ...DEFAULT_IMAGE_OPTIONS, ...options.image };
  const chunkSize = Math.max(1, options.chunkSize ?? 32);
  const task = options.task;
  if (parsed.task !== task) throw new DatasetValidationError(`the upload is a ${parsed.task} dataset, but the import is for ${task}`, undefined, 'task');
  const report = [...parsed.skipped];
  // A fixed order (natural sort by name) makes the result independent of the order files arrived in:
  // which of two duplicates is kept, and so the version id, depends on the content alone.
  const collator = new Intl.Collator('en', { numeric: true });
  const candidates = [...parsed.candidates].sort((a, b) => collator.compare(a.item, b.item));
  const token = newStagingToken(context.now?.() ?? Date.now());

  const parent = options.parentId ? await db.datasets.get(options.parentId) : undefined;
  if (options.parentId && !parent) throw new DatasetValidationError(`dataset version ${options.parentId} does not exist, so nothing can be added to it`);
  if (parent && parent.task !== task) throw new DatasetValidationError(`dataset ${parent.name} is a ${parent.task} dataset; it cannot take ${task} data`, undefined, 'task');
  const seen = new Map<string, { item: string; label: string | number }>();
  if (parent) {
    await db.samples.where('datasetId').equals(parent.id).each((s) => void seen.set(s.hash, { item: `${s.path} (in ${parent.name})`, label: s.label }));
  }

  const staged: StagedSample[] = [];
  let counter = 0;
  try {
    for (let start = 0; start < candidates.length; start += chunkSize) {
      throwIfCancelled(signal);
      const chunk = candidates.slice(start, start + chunkSize);
      const checked = await mapLimit(chunk, Math.max(1, options.concurrency ?? 4), (c) =>
        checkCandidate(c, processor, options, image).catch((error): Checked => ({ candidate: c, reason: `unreadable (${describe(error)})` })),
      );
      const rows: SampleRow[] = [];
      for (const { candidate, hash, reason, row } of checked) {
        if (reason || !hash || !row) {
          report.push({ item: candidate.item, reason: reason ?? 'unreadable' });
          continue;
        }
        const earlier = seen.get(hash);
        if (earlier) {
          const conflict = earlier.label !== candidate.label ? `; labels differ: ${JSON.stringify(earlier.label)} there, ${JSON.stringify(candidate.label)} here` : '';
          report.push({ item: candidate.item, reason: `duplicate content: same ${candidate.kind === 'text' ? 'text' : 'image(s)'} as ${earlier.item}${conflict}` });
          continue;
        }
        seen.set(hash, { item: candidate.item, label: candidate.label });
        const id = `${token.prefix}-${counter++}`;
        rows.push({ ...row, id, datasetId: token.datasetId, split: 'unassigned', hash });
        staged.push({ id, hash, label: candidate.label, split: candidate.split, fold: candidate.fold });
      }
      throwIfCancelled(signal);
      if (rows.length > 0) await db.transaction('rw', db.samples, () => db.samples.bulkAdd(rows));
      onProgress?.({ kind: 'progress', label: 'Checking and storing samples', done: Math.min(candidates.length, start + chunk.length), total: candidates.length });
    }
    throwIfCancelled(signal);
    if (staged.length === 0) {
      const first = report.slice(0, 8).map((s) => `${s.item}: ${s.reason}`);
      throw new DatasetValidationError(
        `Nothing to import: ${candidates.length === 0 ? 'no samples were found' : `all ${candidates.length} samples were skipped`}${report.length ? `. ${report.length} item(s) skipped — ${first.join('; ')}${report.length > first.length ? '; …' : ''}` : ''}.`,
      );
    }

    const notes = [...(parsed.notes ?? []), ...assignNewSplits(staged, options)];
    const preset = taskLabels(task);
    const uploaded = parsed.labels ? [...parsed.labels] : preset ? [...preset] : undefined;
    // An addition keeps the parent's classes (older versions without a stored list have the preset's).
    const labels = parent && uploaded ? mergeClasses(parent.labels ?? preset ?? [], uploaded, preset ?? []) : uploaded;
    onProgress?.({ kind: 'progress', label: 'Saving the dataset version', done: 0, total: 1 });
    const { dataset, existed } = await finalizeStaged(db, token, staged, {
      task,
      name: options.name,
      createdAt: context.now?.() ?? Date.now(),
      parent,
      synthetic: options.synthetic ?? parsed.export?.synthetic,
      description: options.description,
      demo: options.demo,
      preset: options.preset ?? parsed.export?.preset ?? parent?.preset,
      labels,
      seed: options.seed ?? 42,
      exportedId: parsed.export?.id,
      report,
    });
    onProgress?.({ kind: 'progress', label: 'Saving the dataset version', done: 1, total: 1 });
    return { dataset, existed, report, exportedId: parsed.export?.id, notes };
  } catch (error) {
    // Deleting the staged rows frees space, so it works even when storage is full; a failure here must
    // not hide why the import stopped (`sweepStaleStaging` removes what is left).
    await discardStaging(db, token.datasetId).catch(() => {});
    throw asStorageFull(error, `dataset "${options.name}"`);
  }
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Gives every staged sample without a split one (seeded, stratified), and folds when asked. */
/**
 * Splits what the upload left open, seeded and stratified. An upload that names train (and test) but
 * no validation split — Fashion-MNIST's `train-*`/`t10k-*` files, `train/` + `test/` folders — gets one
 * carved from train, so training can validate; the returned note says so.
 */
function assignNewSplits(staged: StagedSample[], options: ImportOptions): string[] {
  const seed = options.seed ?? 42;
  const yearBin = options.yearBin ?? DEFAULT_YEAR_BIN;
  const keep = (options.splitMode ?? 'keep') === 'keep';
  const open = staged.filter((s) => !keep || !s.split);
  const named = open.length < staged.length;
  const fractions = options.evaluationSet ? (named ? { train: 1, val: 0, test: 0 } : { train: 0, val: 0, test: 1 }) : options.fractions;
  const splits = assignSplits(open.map((s) => ({ key: s.hash, label: s.label })), { seed, fractions, yearBin });
  for (const s of open) s.split = splits.get(s.hash)!;
  const notes: string[] = [];
  if (options.evaluationSet && named && open.length > 0) {
    notes.push(`${open.length} of the ${staged.length} samples name no split while the others do: they are taken as training data (train) and not evaluated.`);
  }
  const train = staged.filter((s) => s.split === 'train');
  const { train: trainShare, val } = fractions ?? DEFAULT_FRACTIONS;
  const share = val > 0 ? val / (trainShare + val) : 0;
  if (share > 0 && train.length > 1 && !staged.some((s) => s.split === 'val')) {
    const carved = assignSplits(train.map((s) => ({ key: s.hash, label: s.label })), { seed, fractions: { train: 1 - share, val: share, test: 0 }, yearBin });
    for (const s of train) s.split = carved.get(s.hash)!;
    const count = train.filter((s) => s.split === 'val').length;
    notes.push(`The upload has no validation split: ${count} of its ${train.length} training samples (${Math.round(share * 100)} %, stratified, seed ${seed}) became the val split.`);
  }
  if (options.kFolds) {
    const folds = assignFolds(staged.map((s) => ({ key: s.hash, label: s.label })), options.kFolds, seed, yearBin);
    for (const s of staged) s.fold = folds.get(s.hash);
  }
  return notes;
}

