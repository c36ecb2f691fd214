import type { LoupeDb } from '$lib/db/db';
import type { InferenceLogRow } from '$lib/db/types';
import { isQuotaError, StorageFullError } from '$lib/db/quota';
import { sha256Hex } from '$lib/hash';
import { readLogRetention, updateLogRetention } from '$lib/serving/config';
import type { ImageInput, LogRetention, PredictionFailure, PredictionRecord, PredictionSink, ServingInput, Timers } from '$lib/serving/types';
import { referenceVocabulary } from './reference';
import { applyFeedbackChange, applyToRollups, foldLoggedRows, foldRows } from './rollups';
import { inputStatistics } from './stats';
import { TASKS } from '$lib/tasks/registry';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Share of `maxRows` a log may outgrow its limit by between two retention passes… */
const PRUNE_SLACK = 0.1;
/** …and rows it may always outgrow it by (a pass counts the whole log: not after every small write). */
const PRUNE_MIN_ROWS = 50;

/** A retention limit is on when positive and finite; 0 (or anything else) means "no limit". */
const isLimit = (n: number) => Number.isFinite(n) && n > 0;

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface InferenceLoggerOptions {
  /**
   * Group commit: predictions that arrive while a write is in flight (or within `windowMs` of the first
   * waiting one) share the next transaction, up to this many rows.
   */
  maxBatch?: number;
  /** How long the first waiting prediction waits for others before its write starts; 0: at once. */
  windowMs?: number;
  /** A transaction carries at most this many bytes of images (image requests are large)… */
  maxBufferedBytes?: number;
  /**
   * Retention policy, read inside the transaction of every group with images (it decides whether they are kept)
   * and of every group's rollups (pruning), so: IndexedDB reads only; defaults to the `logRetention` setting.
   */
  retention?: () => Promise<LogRetention>;
  /**
   * Retention is enforced after a write this often, and also once max(50, 10% of maxRows) rows
   * were written since the last pass, so a busy log stays near maxRows whatever the request rate.
   */
  pruneEveryMs?: number;
  now?: () => number;
  timers?: Timers;
  /** Called when a write fails; a full storage arrives as a `StorageFullError`. */
  onError?: (error: unknown) => void;
  /**
   * Committed rows are added to the rollups this long after the first of them, in one transaction for all
   * (Chromium runs one database's transactions one after another, so a rollups transaction per group would
   * delay the next group's rows); `flush` and a hidden page fold at once.
   */
  foldAfterMs?: number;
  /** When storage is full, predictions wait in memory and the write is tried again after this long. */
  retryWhenFullMs?: number;
  /** …keeping at most this many (the oldest are dropped beyond it, and the next error says how many); also bounds their images by `maxBufferedBytes`. */
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

/** A prediction (or failed request) waiting for its transaction, and the answer that waits for it. */
interface Pending<T> {
  item: T;
  /** Resolves the caller's promise: the row is committed (or held in memory while storage is full). */
  settle: () => void;
}

interface PendingRow extends Pending<PredictionRecord> {
  /** The row, prepared as soon as the prediction arrived (hashes, input statistics); undefined if that failed. */
  row: Promise<InferenceLogRow | undefined>;
  bytes: number;
}

function pending<T, P extends Pending<T>>(fields: Omit<P, 'settle'>): { entry: P; done: Promise<void> } {
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  return { entry: { ...fields, settle } as P, done };
}

/**
 * The inference log's writer, with group commit: `record` resolves once the prediction's row is
 * committed, so the SDK answers only with the row durable (a tab killed right after its answers loses
 * none of them). Predictions that arrive while a write is in flight share the next transaction, which
 * writes their rows alone; their rollups follow in a transaction of their own (exactly once, after a
 * kill too: see `foldRows`), then retention is enforced. While storage is full, rows wait in
 * memory and `record` resolves at once (serving goes on; a `StorageFullError` says so).
 * @example const logger = new InferenceLogger(db); sdk = new ServingSdk({ …, sink: logger }); // answers wait for their row
 */
export class InferenceLogger implements PredictionSink {
  #db: () => LoupeDb;
  #queue: PendingRow[] = [];
  /** Failed requests are counted in the same transactions (monitoring's error rate). */
  #failures: Pending<PredictionFailure>[] = [];
  #timer: unknown;
  /** A write loop is running: it takes whatever is queued when its transaction ends. */
  #draining = false;
  #chain: Promise<void> = Promise.resolve();
  #lastPrune = -Infinity;
  #writtenSincePrune = 0;
  /** While storage is full, new predictions do not trigger writes before this time (see `#holdForRetry`). */
  #fullUntil = -Infinity;
  /** Predictions dropped while storage was full, not yet reported. */
  #dropped = 0;
  /** Rows with images may exist until a pass with `keepImages` off has dropped them. */
  #imagesMayExist = true;
  /** Committed rows not yet added to the rollups, and the chain of rollup transactions. */
  #unfolded: InferenceLogRow[] = [];
  #folding: Promise<void> = Promise.resolve();
  #foldTimer: unknown;
  readonly #options: Required<InferenceLoggerOptions>;

  constructor(db: LoupeDb | (() => LoupeDb), options: InferenceLoggerOptions = {}) {
    this.#db = typeof db === 'function' ? db : () => db;
    this.#options = {
      maxBatch: 500,
      windowMs: 0,
      maxBufferedBytes: 32 * 1024 * 1024,
      retention: () => readLogRetention(this.#db()),
      pruneEveryMs: 60_000,
      now: Date.now,
      timers: realTimers,
      onError: (error) => console.warn('Loupe could not write the inference log:', error),
      foldAfterMs: 100,
      retryWhenFullMs: 10_000,
      maxHeldRows: 10_000,
      vocabulary: (model, version) => referenceVocabulary(this.#db(), model, version),
      ...options,
    };
  }

  /** Predictions not written yet (in flight, or held while storage is full). */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Logs a prediction; resolves once its row is committed (never rejects: a failed write goes to
   * `onError`). Answer the request after it.
   */
  record(entry: PredictionRecord): Promise<void> {
    const { entry: queued, done } = pending<PredictionRecord, PendingRow>({ item: entry, row: this.#prepare(entry), bytes: bytesOf(entry) });
    this.#queue.push(queued);
    this.#soon();
    return done;
  }

  /** Counts a failed request in the rollups; resolves once committed, like `record`. */
  recordFailure(failure: PredictionFailure): Promise<void> {
    const { entry, done } = pending<PredictionFailure, Pending<PredictionFailure>>({ item: failure });
    this.#failures.push(entry);
    this.#soon();
    return done;
  }

  /** Writes everything waiting now, even while storage is full (writes run one after another); resolves when written and in the rollups. */
  flush(): Promise<void> {
    return this.#write().then(() => this.#foldNow());
  }

  /** Writes everything waiting (after the writes already started); the rollups follow later (`foldAfterMs`). */
  #write(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#drain());
    return this.#chain;
  }

  /**
   * Tries the held rows again when the page is hidden or unloaded (rows are written before their
   * answers, so only rows held while storage is full can be waiting).
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

  /** Starts a write for what was just queued, unless one is running (it will take it) or storage is full. */
  #soon(): void {
    if (this.#options.now() < this.#fullUntil) {
      // Storage is full: wait for the retry already scheduled, and answer now.
      this.#holdAll();
      return;
    }
    if (this.#draining || this.#timer !== undefined) return;
    if (this.#options.windowMs > 0) {
      this.#timer = this.#options.timers.set(() => {
        this.#timer = undefined;
        void this.#write();
      }, this.#options.windowMs);
    } else {
      this.#draining = true; // claimed now, so predictions arriving before the write starts join it
      queueMicrotask(() => void this.#write());
    }
  }

  /** Hashes and input statistics, computed while the prediction waits for its transaction. */
  async #prepare(entry: PredictionRecord): Promise<InferenceLogRow | undefined> {
    try {
      const vocabulary = entry.task && TASKS[entry.task]?.input === 'text' ? await this.#options.vocabulary(entry.model, entry.version).catch(() => undefined) : undefined;
      return await toLogRow(entry, true, vocabulary);
    } catch (error) {
      this.#options.onError(error);
      return undefined;
    }
  }

  /** Writes batches until nothing waits (or storage is full). */
  async #drain(): Promise<void> {
    if (this.#timer !== undefined) {
      this.#options.timers.clear(this.#timer);
      this.#timer = undefined;
    }
    this.#draining = true;
    try {
      while (this.#queue.length > 0 || this.#failures.length > 0) {
        if (!(await this.#writeBatch())) break;
      }
    } finally {
      this.#draining = false;
    }
  }

  /** One transaction: up to `maxBatch` rows (and `maxBufferedBytes` of images), with every waiting failure. False when storage is full. */
  async #writeBatch(): Promise<boolean> {
    let take = 0;
    let bytes = 0;
    while (take < this.#queue.length && take < this.#options.maxBatch && (take === 0 || bytes + this.#queue[take]!.bytes <= this.#options.maxBufferedBytes)) {
      bytes += this.#queue[take]!.bytes;
      take++;
    }
    const batch = this.#queue.splice(0, take);
    const failures = this.#failures.splice(0);
    const settle = () => {
      for (const p of batch) p.settle();
      for (const p of failures) p.settle();
    };
    const db = this.#db();
    try {
      const prepared = (await Promise.all(batch.map((p) => p.row))).filter((row): row is InferenceLogRow => row !== undefined);
      let rows = prepared;
      // The answer waits for the rows only: they are the record. A text group's transaction touches the log
      // alone, so it never waits for the previous group's rollups (see `#fold`); a group with images reads the
      // retention setting first, which decides whether they are kept. Failures have no row: they are counted
      // in the rollups here.
      const withImages = prepared.some((row) => row.input.images?.length);
      const tables = [db.inferenceLog, ...(withImages ? [db.settings] : []), ...(failures.length > 0 ? [db.rollups] : [])];
      try {
        // No native `await` in the scope: Dexie would keep its transaction zone across it with extra ticks.
        const write = () =>
          Promise.all([
            rows.length > 0 ? db.inferenceLog.bulkAdd(rows, { allKeys: true }).then((ids) => rows.forEach((row, i) => (row.id = ids[i]))) : undefined,
            failures.length > 0 ? applyToRollups(db, [], failures.map((p) => p.item)) : undefined,
          ]);
        await db.transaction('rw', tables, () =>
          withImages
            ? this.#options.retention().then((retention) => {
                if (!retention.keepImages) rows = prepared.map(withoutImages);
                return write();
              })
            : write(),
        );
      } catch (error) {
        if (!isQuotaError(error)) throw error;
        for (const row of rows) delete row.id;
        this.#options.onError(this.#holdForRetry(batch, failures, error));
        return false;
      }
      // Committed: the answers go out now; the rollups follow.
      settle();
      this.#fullUntil = -Infinity;
      if (rows.some((row) => row.input.images?.length)) this.#imagesMayExist = true;
      this.#unfolded.push(...rows);
      this.#foldTimer ??= this.#options.timers.set(() => void this.#foldNow(), this.#options.foldAfterMs);
    } catch (error) {
      settle();
      this.#options.onError(error);
    }
    return true;
  }

  /** Folds the committed rows now (see `#fold`); resolves when they are in the rollups. */
  #foldNow(): Promise<void> {
    if (this.#foldTimer !== undefined) {
      this.#options.timers.clear(this.#foldTimer);
      this.#foldTimer = undefined;
    }
    this.#folding = this.#folding.then(() => this.#fold());
    return this.#folding;
  }

  /**
   * Adds the committed rows to the rollups in a transaction of their own, off the answers' path; a tab
   * killed before it ran loses nothing (the next fold, or start-up, reads the rows past the rollups' mark
   * from the log: `foldLoggedRows`). Re-reads the retention setting in the same transaction and enforces it.
   */
  async #fold(): Promise<void> {
    const rows = this.#unfolded.splice(0);
    if (rows.length === 0) return;
    const db = this.#db();
    try {
      const [folded, retention] = await db.transaction('rw', db.rollups, db.settings, () => Promise.all([foldRows(db, rows), this.#options.retention()]));
      if (!folded) await foldLoggedRows(db);
      this.#writtenSincePrune += rows.length;
      const now = this.#options.now();
      const grown = isLimit(retention.maxRows) && this.#writtenSincePrune >= Math.max(PRUNE_MIN_ROWS, Math.ceil(retention.maxRows * PRUNE_SLACK));
      if (grown || now - this.#lastPrune >= this.#options.pruneEveryMs) {
        this.#lastPrune = now;
        this.#writtenSincePrune = 0;
        await pruneLog(db, retention, now, { images: this.#imagesMayExist });
        if (!retention.keepImages) this.#imagesMayExist = false;
      }
    } catch (error) {
      // Not lost: the rows are committed, and the next fold (or start-up) reads them from the log.
      this.#options.onError(error);
    }
  }

  /**
   * Storage is full and the transaction aborted whole: the predictions go back to the front of the
   * queue (bounded, newest kept) and are written once there is space, so freeing space loses nothing
   * already answered. Everything waiting is answered now: serving goes on while the log cannot grow.
   */
  #holdForRetry(batch: PendingRow[], failures: Pending<PredictionFailure>[], error: unknown): StorageFullError {
    this.#queue.unshift(...batch);
    this.#failures.unshift(...failures);
    this.#fullUntil = this.#options.now() + this.#options.retryWhenFullMs;
    this.#holdAll();
    this.#timer ??= this.#options.timers.set(() => {
      this.#timer = undefined;
      void this.#write();
    }, this.#options.retryWhenFullMs);
    const dropped = this.#dropped ? ` (${this.#dropped} older one(s) were dropped to bound memory)` : '';
    this.#dropped = 0;
    const waiting = `${this.#queue.length} prediction(s) for the inference log${dropped}`;
    return new StorageFullError(waiting, { cause: error, then: 'they wait in this tab and are written once there is space' });
  }

  /** Answers everything waiting, and drops the oldest held predictions beyond `maxHeldRows` or `maxBufferedBytes` of images. */
  #holdAll(): void {
    for (const p of this.#queue) p.settle();
    for (const p of this.#failures) p.settle();
    let bytes = this.#queue.reduce((sum, p) => sum + p.bytes, 0);
    while (this.#queue.length > 1 && (this.#queue.length > this.#options.maxHeldRows || bytes > this.#options.maxBufferedBytes)) {
      bytes -= this.#queue.shift()!.bytes;
      this.#dropped++;
    }
    this.#failures.splice(0, Math.max(0, this.#failures.length - this.#options.maxHeldRows));
  }
}

const bytesOf = (entry: PredictionRecord) => imagesOf(entry.input).reduce((sum, image) => sum + image.bytes.byteLength, 0);

/** A row as stored when retention keeps no images: the hash and size stay. */
function withoutImages(row: InferenceLogRow): InferenceLogRow {
  if (!row.input.images) return row;
  const { images: _images, ...input } = row.input;
  return { ...row, input };
}

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
    await db.transaction('rw', db.inferenceLog, db.rollups, db.settings, async () => {
      await foldLoggedRows(db); // a row not yet in the rollups is counted with its old feedback, then changed
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
  await db.transaction('rw', db.inferenceLog, db.rollups, db.settings, async () => {
    await foldLoggedRows(db);
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
