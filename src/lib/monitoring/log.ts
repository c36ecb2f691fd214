import type { LoupeDb } from '$lib/db/db';
import type { InferenceLogRow } from '$lib/db/types';
import { isQuotaError, StorageFullError } from '$lib/db/quota';
import { sha256Hex } from '$lib/hash';
import { readLogRetention, updateLogRetention } from '$lib/serving/config';
import type { ImageInput, LogRetention, PredictionFailure, PredictionRecord, PredictionSink, ServingInput, Timers } from '$lib/serving/types';
import { referenceVocabulary } from './reference';
import { applyFeedbackChange, applyToRollups } from './rollups';
import { inputStatistics } from './stats';
import { TASKS } from '$lib/tasks/registry';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Share of `maxRows` a log may outgrow its limit by between two retention passes. */
const PRUNE_SLACK = 0.1;

/** A retention limit is on when positive and finite; 0 (or anything else) means "no limit". */
const isLimit = (n: number) => Number.isFinite(n) && n > 0;

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface InferenceLoggerOptions {
  /** Flush once this many predictions wait. */
  batchSize?: number;
  /** …or this long after the first of them arrived. */
  delayMs?: number;
  /** …or once their images add up to this many bytes (image requests are large). */
  maxBufferedBytes?: number;
  /** Retention policy, read at every flush; defaults to the `logRetention` setting. */
  retention?: () => Promise<LogRetention>;
  /**
   * Retention is enforced after a flush this often, and also once max(batchSize, 10% of maxRows) rows
   * were written since the last pass, so a busy log stays near maxRows whatever the request rate.
   */
  pruneEveryMs?: number;
  now?: () => number;
  timers?: Timers;
  /** Called when a write fails; a full storage arrives as a `StorageFullError`. */
  onError?: (error: unknown) => void;
  /** When storage is full, predictions wait in memory and the write is tried again after this long. */
  retryWhenFullMs?: number;
  /** …keeping at most this many (the oldest are dropped beyond it, and the next error says how many). */
  maxHeldRows?: number;
  /** The vocabulary a version's inputs are checked against (OOV rate); by default its monitoring reference's. */
  vocabulary?: (model: string, version: number) => Promise<ReadonlySet<string> | undefined>;
}

/** Images of one input, in field order (front, back for coins). */
export function imagesOf(input: ServingInput): ImageInput[] {
  if ('front' in input) return [input.front, input.back];
  if ('image' in input) return [input.image];
  return [];
}

/** A logged prediction's input reference: the text, or the images' hash and size (and the images, when kept). */
export async function logInput(input: ServingInput, keepImages: boolean): Promise<InferenceLogRow['input']> {
  if ('text' in input) return { text: input.text };
  const images = imagesOf(input);
  const hashes = await Promise.all(images.map((image) => sha256Hex(image.bytes)));
  const reference = { hash: hashes.join('+'), bytes: images.reduce((sum, image) => sum + image.bytes.byteLength, 0) };
  return keepImages ? { ...reference, images: images.map((image) => new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.type })) } : reference;
}

export async function toLogRow(entry: PredictionRecord, keepImages: boolean, vocabulary?: ReadonlySet<string>): Promise<InferenceLogRow> {
  const { prediction } = entry;
  return {
    ts: entry.ts,
    model: entry.model,
    version: entry.version,
    task: entry.task,
    source: entry.source,
    input: await logInput(entry.input, keepImages),
    output: prediction,
    ...(prediction.kind === 'classification' ? { score: prediction.score } : {}),
    ...(entry.labels ? { labels: [...entry.labels] } : {}),
    latencyMs: entry.latencyMs,
    batchSize: entry.batchSize,
    backend: entry.backend,
    stats: await inputStatistics(entry.input, vocabulary),
  };
}

/**
 * The inference log's writer: predictions are buffered and written with one `bulkAdd` per flush
 * (when `batchSize` wait, after `delayMs`, when their images grow large, or when the page is hidden);
 * retention is enforced after flushes.
 * @example const logger = new InferenceLogger(db); logger.attach(document); sdk = new ServingSdk({ …, sink: logger });
 */
export class InferenceLogger implements PredictionSink {
  #db: () => LoupeDb;
  #buffer: PredictionRecord[] = [];
  /** Failed requests wait with the predictions and are counted in the same write (monitoring's error rate). */
  #failures: PredictionFailure[] = [];
  #bufferedBytes = 0;
  #timer: unknown;
  #chain: Promise<void> = Promise.resolve();
  #lastPrune = -Infinity;
  #writtenSincePrune = 0;
  /** While storage is full, new predictions do not trigger writes before this time (see `#holdForRetry`). */
  #fullUntil = -Infinity;
  /** Predictions dropped while storage was full, not yet reported. */
  #dropped = 0;
  /** Rows with images may exist until a pass with `keepImages` off has dropped them. */
  #imagesMayExist = true;
  readonly #options: Required<InferenceLoggerOptions>;

  constructor(db: LoupeDb | (() => LoupeDb), options: InferenceLoggerOptions = {}) {
    this.#db = typeof db === 'function' ? db : () => db;
    this.#options = {
      batchSize: 50,
      delayMs: 1000,
      maxBufferedBytes: 32 * 1024 * 1024,
      retention: () => readLogRetention(this.#db()),
      pruneEveryMs: 60_000,
      now: Date.now,
      timers: realTimers,
      onError: (error) => console.warn('Loupe could not write the inference log:', error),
      retryWhenFullMs: 10_000,
      maxHeldRows: 10_000,
      vocabulary: (model, version) => referenceVocabulary(this.#db(), model, version),
      ...options,
    };
  }

  /** Predictions waiting to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  record(entry: PredictionRecord): void {
    this.#buffer.push(entry);
    this.#bufferedBytes += bytesOf(entry);
    const due = this.#buffer.length >= this.#options.batchSize || this.#bufferedBytes >= this.#options.maxBufferedBytes;
    if (this.#options.now() < this.#fullUntil) {
      this.#bound(); // storage is full: wait for the retry already scheduled
    } else if (due) {
      void this.flush();
    } else {
      this.#timer ??= this.#options.timers.set(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#options.delayMs);
    }
  }

  recordFailure(failure: PredictionFailure): void {
    this.#failures.push(failure);
    this.#timer ??= this.#options.timers.set(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#options.delayMs);
  }

  /** Writes everything buffered now (flushes run one after another); resolves when written. */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#write());
    return this.#chain;
  }

  /**
   * Flushes when the page is hidden or unloaded, so closing a tab loses nothing already answered.
   * @returns the function that detaches the listeners
   */
  attach(doc: EventTarget & { readonly visibilityState: string } = document, win: EventTarget = window): () => void {
    const onVisibility = () => {
      if (doc.visibilityState === 'hidden') void this.flush();
    };
    const onPageHide = () => void this.flush();
    doc.addEventListener('visibilitychange', onVisibility);
    win.addEventListener('pagehide', onPageHide);
    return () => {
      doc.removeEventListener('visibilitychange', onVisibility);
      win.removeEventListener('pagehide', onPageHide);
    };
  }

  async #write(): Promise<void> {
    if (this.#timer !== undefined) {
      this.#options.timers.clear(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#buffer.splice(0);
    const failures = this.#failures.splice(0);
    this.#bufferedBytes = 0;
    if (batch.length === 0 && failures.length === 0) return;
    const db = this.#db();
    try {
      const retention = await this.#options.retention();
      const vocabulary = (entry: PredictionRecord) => (entry.task && TASKS[entry.task]?.input === 'text' ? this.#options.vocabulary(entry.model, entry.version).catch(() => undefined) : undefined);
      const rows = await Promise.all(batch.map(async (entry) => toLogRow(entry, retention.keepImages, await vocabulary(entry))));
      // Rows and their per-minute rollups are written in one transaction: dashboards never see one without the other.
      try {
        await db.transaction('rw', db.inferenceLog, db.rollups, async () => {
          await db.inferenceLog.bulkAdd(rows);
          await applyToRollups(db, rows, failures);
        });
      } catch (error) {
        if (!isQuotaError(error)) throw error;
        throw this.#holdForRetry(batch, failures, error);
      }
      this.#fullUntil = -Infinity;
      if (retention.keepImages) this.#imagesMayExist = true;
      this.#writtenSincePrune += rows.length;
      const now = this.#options.now();
      const grown = isLimit(retention.maxRows) && this.#writtenSincePrune >= Math.max(this.#options.batchSize, Math.ceil(retention.maxRows * PRUNE_SLACK));
      if (grown || now - this.#lastPrune >= this.#options.pruneEveryMs) {
        this.#lastPrune = now;
        this.#writtenSincePrune = 0;
        await pruneLog(db, retention, now, { images: this.#imagesMayExist });
        if (!retention.keepImages) this.#imagesMayExist = false;
      }
    } catch (error) {
      this.#options.onError(error);
    }
  }

  /**
   * Storage is full and the transaction aborted whole: the predictions go back to the front of the
   * buffer (bounded, newest kept) and are written once there is space, so freeing space loses nothing
   * already answered. New predictions wait for the retry instead of each trying a write that must fail.
   */
  #holdForRetry(batch: PredictionRecord[], failures: PredictionFailure[], error: unknown): StorageFullError {
    this.#buffer.unshift(...batch);
    this.#failures.unshift(...failures);
    this.#bufferedBytes = this.#buffer.reduce((sum, entry) => sum + bytesOf(entry), 0);
    this.#bound();
    this.#fullUntil = this.#options.now() + this.#options.retryWhenFullMs;
    this.#timer ??= this.#options.timers.set(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#options.retryWhenFullMs);
    const dropped = this.#dropped ? ` (${this.#dropped} older one(s) were dropped to bound memory)` : '';
    this.#dropped = 0;
    const waiting = `${this.#buffer.length} prediction(s) for the inference log${dropped}`;
    return new StorageFullError(waiting, { cause: error, then: 'they wait in this tab and are written once there is space' });
  }

  /** Drops the oldest held predictions beyond `maxHeldRows` or `maxBufferedBytes` of images. */
  #bound(): void {
    while (this.#buffer.length > 1 && (this.#buffer.length > this.#options.maxHeldRows || this.#bufferedBytes > this.#options.maxBufferedBytes)) {
      this.#bufferedBytes -= bytesOf(this.#buffer.shift()!);
      this.#dropped++;
    }
    this.#failures.splice(0, Math.max(0, this.#failures.length - this.#options.maxHeldRows));
  }
}

const bytesOf = (entry: PredictionRecord) => imagesOf(entry.input).reduce((sum, image) => sum + image.bytes.byteLength, 0);

export interface PruneResult {
  byAge: number;
  byCount: number;
  imagesDropped: number;
}

/**
 * Enforces a retention policy: drops rows older than `maxAgeDays`, then the oldest rows beyond
 * `maxRows`, and (with `keepImages` off) the images of the rows that still carry them — a full scan,
 * so callers skip it (`images: false`) when no image can have been written since the last pass.
 * A non-positive or non-finite limit means "no limit".
 */
export async function pruneLog(db: LoupeDb, retention: LogRetention, now: number, pass: { images?: boolean } = {}): Promise<PruneResult> {
  const byAge = isLimit(retention.maxAgeDays) ? await db.inferenceLog.where('ts').below(now - retention.maxAgeDays * DAY_MS).delete() : 0;
  let byCount = 0;
  if (isLimit(retention.maxRows)) {
    const excess = (await db.inferenceLog.count()) - retention.maxRows;
    if (excess > 0) {
      const oldest = await db.inferenceLog.orderBy('ts').limit(excess).primaryKeys();
      await db.inferenceLog.bulkDelete(oldest);
      byCount = oldest.length;
    }
  }
  let imagesDropped = 0;
  if (!retention.keepImages && pass.images !== false) {
    imagesDropped = await db.inferenceLog
      .filter((row) => Boolean(row.input.images?.length))
      .modify((row) => {
        delete row.input.images;
      });
  }
  return { byAge, byCount, imagesDropped };
}

/**
 * Changes the retention policy and applies it at once: rows beyond the new limits are deleted now,
 * and turning "keep images" off drops the images already stored.
 * @example const { pruned } = await changeLogRetention(db, { maxRows: 10_000 });
 */
export async function changeLogRetention(db: LoupeDb, changes: Partial<LogRetention>, now = Date.now()): Promise<{ retention: LogRetention; pruned: PruneResult }> {
  const retention = await updateLogRetention(db, changes);
  const pruned = await pruneLog(db, retention, now, { images: !retention.keepImages });
  return { retention, pruned };
}

export class FeedbackError extends Error {
  override name = 'FeedbackError';
}

/**
 * Sets (or, with `undefined`, clears) the true answer of a logged prediction: a year for regression
 * models, a label for classifiers.
 */
export async function setFeedback(db: LoupeDb, id: number, value: string | number | undefined, now = Date.now()): Promise<void> {
  const row = await db.inferenceLog.get(id);
  if (!row) throw new FeedbackError(`log row ${id} does not exist (it may have been pruned)`);
  if (value === undefined || value === '') {
    await db.transaction('rw', db.inferenceLog, db.rollups, async () => {
      await db.inferenceLog.update(id, { feedback: undefined, feedbackAt: undefined });
      await applyFeedbackChange(db, row, undefined);
    });
    return;
  }
  const kind = (row.output as { kind?: string } | undefined)?.kind;
  let feedback: string | number = value;
  if (kind === 'regression') {
    feedback = typeof value === 'number' ? value : Number(value.trim());
    if (!Number.isFinite(feedback) || (typeof value === 'string' && value.trim() === '')) {
      throw new FeedbackError(`feedback for ${row.model} must be a number (e.g. a year), got ${JSON.stringify(value)}`);
    }
  } else {
    feedback = String(value).trim();
    if (feedback === '') throw new FeedbackError(`feedback for ${row.model} must be a label`);
  }
  await db.transaction('rw', db.inferenceLog, db.rollups, async () => {
    await db.inferenceLog.update(id, { feedback, feedbackAt: now });
    await applyFeedbackChange(db, row, feedback);
  });
}

export type FeedbackInput = { text: string } | { images: Blob[] } | { hash: string; bytes: number };

/** A labelled example made from a logged prediction and its feedback. */
export interface FeedbackExample {
  input: FeedbackInput;
  label: string | number;
  logId: number;
  model: string;
  version: number;
  ts: number;
}

/**
 * The labelled rows of a model's log (rows that got feedback), oldest first, for the datasets
 * module to turn into a new dataset version. Images appear as blobs where retention kept them, as a
 * hash and size otherwise.
 * @example const examples = await feedbackToDataset(db, { model: 'sentiment', from: lastWeek });
 */
export async function feedbackToDataset(db: LoupeDb, query: { model: string; from?: number; to?: number }): Promise<FeedbackExample[]> {
  const rows = await db.inferenceLog
    .where('[model+ts]')
    .between([query.model, query.from ?? -Infinity], [query.model, query.to ?? Infinity], true, true)
    .filter((row) => row.feedback !== undefined && row.feedback !== '')
    .toArray();
  return rows.map((row) => {
    const { text, images, hash, bytes } = row.input;
    const input: FeedbackInput = text !== undefined ? { text } : images?.length ? { images } : { hash: hash ?? '', bytes: bytes ?? 0 };
    return { input, label: row.feedback!, logId: row.id!, model: row.model, version: row.version, ts: row.ts };
  });
}
