import { formatBytes } from '$lib/bytes';
import type { LoupeDb } from '$lib/db/db';
import type { BackendName, LogSource, ModelVersionStatus, TaskName } from '$lib/db/types';
import { NoProductionVersionError, RequestValidationError, ServingError, UnknownModelError, UnknownVersionError } from './errors';
import { checkImageBytes } from './image';
import type { ImageDecodeError } from '$lib/images/decode';
import { imageKeysOf } from '$lib/tasks/inputs';
import { builtinModelTask, TASKS, taskChoices, taskOfVersion } from '$lib/tasks/registry';
import { signatureOf } from '$lib/tasks/signature';
import type { ServingField } from '$lib/tasks/types';
import { versionKey } from './models';
import {
  DEFAULT_SERVING_LIMITS,
  type ImageInput,
  type Prediction,
  type PredictionSink,
  type Predictor,
  type PredictorFactory,
  type ServingInput,
  type ServingLimits,
  type Timers,
} from './types';

export type ImageSource = Blob | ArrayBuffer | Uint8Array | ImageInput;

/** What `predict` takes: a text (or `{text}`), one image (`{image}`), or a coin's two sides (`{front, back}`). */
export type PredictInput = string | { text: string } | { image: ImageSource } | { front: ImageSource; back: ImageSource };

export interface PredictOptions {
  /** A registered version; by default the one the `production` alias points to. */
  version?: number;
  /** Who asked, for the log (default `sdk`). */
  source?: LogSource;
  /**
   * How the request named input `index`'s value `key` (`image`, `front`, `back`, `text`), for errors about
   * it: the REST API passes the path as the client wrote it (`dataframe_split.data[0][1]`). Default
   * `inputs[0].back`.
   */
  field?: (index: number, key: string) => string;
}

export interface BatchPrediction {
  model: string;
  /** The version that answered. */
  version: number;
  task: TaskName;
  backend: BackendName;
  labels?: readonly string[];
  /** Time the model took for the whole request, in ms (loading excluded). */
  latencyMs: number;
  predictions: Prediction[];
}

export interface SinglePrediction extends Omit<BatchPrediction, 'predictions'> {
  prediction: Prediction;
}

export interface ModelSummary {
  name: string;
  task?: TaskName;
  productionVersion?: number;
  aliases: Record<string, number>;
  versions: { version: number; status: ModelVersionStatus; createdAt: number }[];
  /** MLflow signature of the production (else latest) version, or the task's default. */
  signature?: unknown;
}

export interface ServingSdkOptions {
  db: LoupeDb | (() => LoupeDb);
  /** Loads a version as a predictor (the studio's runs it in the inference worker). */
  predictors: PredictorFactory;
  /** Where predictions are logged (the `InferenceLogger`; answers wait for it); none in some tests. */
  sink?: PredictionSink;
  limits?: () => Promise<ServingLimits>;
  /** Wall clock of log rows. */
  clock?: () => number;
  /** Monotonic clock of latencies. */
  stopwatch?: () => number;
  /** A loaded version that is not in production is unloaded after this long without requests. */
  idleMs?: number;
  timers?: Timers;
}

interface Entry {
  key: string;
  model: string;
  version: number;
  loading: Promise<Predictor>;
  inFlight: number;
  /** Was production, and the alias has moved on: unload once its last request is done. */
  retired: boolean;
  idle?: unknown;
  disposed: boolean;
}

/** Errors after which a loaded predictor is gone (its worker restarted): the next request reloads it. */
const GONE = new Set(['WorkerCrashedError', 'ModelNotLoadedError']);

async function imageBytes(source: ImageSource, field: string, maxBytes: number): Promise<ImageInput> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (source.size > maxBytes) {
      throw new RequestValidationError(413, 'payload_too_large', field, `the image is ${formatBytes(source.size)}; the limit is ${formatBytes(maxBytes)}`);
    }
    bytes = new Uint8Array(await source.arrayBuffer());
  } else if (source && typeof source === 'object' && (source as ImageInput).bytes instanceof Uint8Array) bytes = (source as ImageInput).bytes;
  else throw new RequestValidationError(422, 'invalid_image', field, 'must be an image: a Blob, an ArrayBuffer or a Uint8Array');
  return checkImageBytes(bytes, field, maxBytes);
}

/**
 * An image the model could not decode → a 422 naming the field it came in. The decoder runs in the
 * inference worker, so its `ImageDecodeError` arrives as a plain Error that kept its name and fields
 * (`sample`: the input, `image`: which of its images); it is recognised by those, never by its message.
 */
function refusedImage(error: unknown, inputs: readonly ServingInput[], field: (index: number, key: string) => string): RequestValidationError | undefined {
  if (!(error instanceof Error) || error.name !== 'ImageDecodeError') return undefined;
  const { sample, image, reason } = error as Partial<ImageDecodeError>;
  const input = typeof sample === 'number' ? inputs[sample] : undefined;
  const key = input && typeof image === 'number' ? imageKeysOf(input)[image] : undefined;
  const detail = `could not be decoded as an image (${(typeof reason === 'string' ? reason : error.message).replace(/\.$/, '')})`;
  return new RequestValidationError(422, 'invalid_image', key ? field(sample!, key) : 'inputs', key ? detail : `an image ${detail}`);
}

/**
 * An error of `predict(model, input)` as the Predict form words it: a refused input is named by the
 * form's own prompt for it, so the user sees which photo is at fault ("Back (reverse): could not be
 * decoded as an image (…)") instead of `input.back`.
 * @example formErrorMessage(error, TASKS['coin-year'].serving.fields)
 */
export function formErrorMessage(error: unknown, fields: readonly ServingField[]): string {
  if (error instanceof RequestValidationError) {
    const field = fields.find((f) => error.field === `input.${f.key}`);
    if (field) return `${field.prompt}: ${error.detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Checks an SDK input against its task and turns it into the predictor's input. */
export async function normalizeInput(task: TaskName, input: PredictInput, limits: ServingLimits, field: string): Promise<ServingInput> {
  const object = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const image = (key: string) => imageBytes(object[key] as ImageSource, `${field}.${key}`, limits.maxImageBytes);
  const requireKeys = (keys: string[], why: string) => {
    for (const key of keys) if (!(key in object)) throw new RequestValidationError(422, 'invalid_request', `${field}.${key}`, `is required${why}`);
  };
  switch (TASKS[task].input) {
    case 'text': {
      const text = typeof input === 'string' ? input : object.text;
      if (typeof text !== 'string') throw new RequestValidationError(422, 'invalid_request', `${field}.text`, 'must be a string');
      if (text.trim() === '') throw new RequestValidationError(422, 'invalid_request', `${field}.text`, 'must not be empty');
      if (text.length > limits.maxTextChars) {
        throw new RequestValidationError(413, 'payload_too_large', `${field}.text`, `is ${text.length} characters; the limit is ${limits.maxTextChars}`);
      }
      return { text };
    }
    case 'image':
      requireKeys(['image'], '');
      return { image: await image('image') };
    case 'image-pair':
      requireKeys(['front', 'back'], ` (a ${TASKS[task].dataset.unit.one} needs both sides)`);
      return { front: await image('front'), back: await image('back') };
  }
}

/**
 * The serving SDK: resolves a model's production version, keeps loaded versions (one per name and
 * version), predicts and logs. When the production alias moves, requests already running finish on
 * the old version, which is unloaded once the last of them is done; later requests get the new one.
 * @example
 * const { prediction, version } = await sdk.predict('sentiment', 'Beautiful post!!!');
 * const coin = await sdk.predict('coin-year', { front: frontBlob, back: backBlob }, { source: 'ui' });
 */
export class ServingSdk {
  #db: () => LoupeDb;
  #predictors: PredictorFactory;
  #sink?: PredictionSink;
  #limits: () => Promise<ServingLimits>;
  #clock: () => number;
  #stopwatch: () => number;
  #idleMs: number;
  #timers: Timers;
  #entries = new Map<string, Entry>();
  /** The production version each model was last seen at, and the order of that observation. */
  #production = new Map<string, { version: number; seq: number }>();
  #seq = 0;
  #tasks = new Map<string, TaskName>();

  constructor(options: ServingSdkOptions) {
    const { db } = options;
    this.#db = typeof db === 'function' ? db : () => db;
    this.#predictors = options.predictors;
    this.#sink = options.sink;
    this.#limits = options.limits ?? (async () => DEFAULT_SERVING_LIMITS);
    this.#clock = options.clock ?? Date.now;
    this.#stopwatch = options.stopwatch ?? (() => performance.now());
    this.#idleMs = options.idleMs ?? 60_000;
    this.#timers = options.timers ?? { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  }

  /** Predicts one input. */
  async predict(model: string, input: PredictInput, options: PredictOptions = {}): Promise<SinglePrediction> {
    const { predictions, ...rest } = await this.#predictChecked(model, [input], options, () => 'input');
    return { ...rest, prediction: predictions[0]! };
  }

  /** Predicts several inputs in one model call; the result names the version that answered all of them. */
  predictBatch(model: string, inputs: PredictInput[], options: PredictOptions = {}): Promise<BatchPrediction> {
    return this.#predictChecked(model, inputs, options, (i) => `inputs[${i}]`);
  }

  async #predictChecked(model: string, inputs: PredictInput[], options: PredictOptions, field: (i: number) => string): Promise<BatchPrediction> {
    const task = await this.modelTask(model);
    const limits = await this.#limits();
    if (inputs.length === 0) throw new RequestValidationError(422, 'invalid_request', 'inputs', 'must hold at least one example');
    if (inputs.length > limits.maxBatch) {
      throw new RequestValidationError(413, 'payload_too_large', 'inputs', `holds ${inputs.length} examples; the limit is ${limits.maxBatch} per request`);
    }
    const normalized = await Promise.all(inputs.map((input, i) => normalizeInput(task, input, limits, field(i))));
    return this.predictInputs(model, normalized, { field: (i, key) => `${field(i)}.${key}`, ...options });
  }

  /** Predicts inputs that were already validated for the model's task (the REST API's path). */
  async predictInputs(model: string, inputs: ServingInput[], options: PredictOptions = {}): Promise<BatchPrediction> {
    const seq = ++this.#seq;
    const version = options.version ?? (await this.productionVersion(model));
    const entry = this.#acquire(model, version, options.version === undefined ? seq : undefined, options.version !== undefined);
    try {
      const predictor = await entry.loading;
      const started = this.#stopwatch();
      const predictions = await predictor.predict(inputs);
      const latencyMs = this.#stopwatch() - started;
      if (predictions.length !== inputs.length) {
        throw new ServingError(500, 'prediction_failed', `${model} v${version} returned ${predictions.length} predictions for ${inputs.length} inputs`);
      }
      const ts = this.#clock();
      const source = options.source ?? 'sdk';
      // The answer waits for its log rows to be committed (group commit): a tab that dies right after
      // answering has logged everything it answered.
      await Promise.all(
        inputs.map((input, i) =>
          this.#sink?.record({
            ts,
            model,
            version,
            task: predictor.task,
            source,
            input,
            prediction: predictions[i]!,
            labels: predictor.labels,
            latencyMs,
            backend: predictor.backend,
            batchSize: inputs.length,
          }),
        ),
      );
      return { model, version, task: predictor.task, backend: predictor.backend, labels: predictor.labels, latencyMs, predictions };
    } catch (error) {
      const refused = refusedImage(error, inputs, options.field ?? ((i, key) => `inputs[${i}].${key}`));
      // The client's fault, not the model's: a 4xx is not counted in the error rate.
      if (refused) throw refused;
      if (GONE.has((error as Error | undefined)?.name ?? '')) this.#forget(entry);
      if (!(error instanceof ServingError && error.status < 500)) {
        await this.#sink?.recordFailure?.({ ts: this.#clock(), model, version, source: options.source ?? 'sdk', error: (error as Error | undefined)?.name ?? 'Error' });
      }
      throw error;
    } finally {
      this.#release(entry);
    }
  }

  /** The task of a model: built-in names serve their task; others say it in their versions. */
  async modelTask(model: string): Promise<TaskName> {
    const builtin = builtinModelTask(model);
    if (builtin) return builtin;
    const cached = this.#tasks.get(model);
    if (cached) return cached;
    const row = await this.#db().modelVersions.where('name').equals(model).last();
    if (!row) throw new UnknownModelError(model);
    const task = taskOfVersion(row);
    if (!task) throw new ServingError(500, 'prediction_failed', `Model "${model}" does not say which task it serves (tag "task" or lineage.task).`);
    this.#tasks.set(model, task);
    return task;
  }

  /** The version the model's `production` alias points to. */
  async productionVersion(model: string): Promise<number> {
    const alias = await this.#db().aliases.get([model, 'production']);
    if (alias) return alias.version;
    await this.modelTask(model); // unknown models are 404, not 503
    throw new NoProductionVersionError(model);
  }

  /** Every servable model: the registry's names and the built-in tasks and presets. */
  async listModels(): Promise<ModelSummary[]> {
    const db = this.#db();
    const names = new Set<string>([...taskChoices().map((c) => c.id), ...((await db.modelVersions.orderBy('name').uniqueKeys()) as string[])]);
    const summaries: ModelSummary[] = [];
    for (const name of [...names].sort()) {
      const [versions, aliases] = await Promise.all([
        db.modelVersions.where('name').equals(name).sortBy('version'),
        db.aliases.where('name').equals(name).toArray(),
      ]);
      const aliasMap = Object.fromEntries(aliases.map((a) => [a.alias, a.version]));
      const production = aliasMap.production as number | undefined;
      const shown = versions.find((v) => v.version === production) ?? versions.at(-1);
      const task = shown ? taskOfVersion(shown) : builtinModelTask(name);
      summaries.push({
        name,
        task,
        productionVersion: production,
        aliases: aliasMap,
        versions: versions.map((v) => ({ version: v.version, status: v.status, createdAt: v.createdAt })),
        signature: shown?.signature ?? (task ? signatureOf(TASKS[task], '') : undefined),
      });
    }
    return summaries;
  }

  /** Versions loaded now, with their requests in flight (for the UI and tests). */
  loaded(): { model: string; version: number; inFlight: number }[] {
    return [...this.#entries.values()].map(({ model, version, inFlight }) => ({ model, version, inFlight }));
  }

  /** Loads the production version ahead of the first request (the Predict page does, on open). */
  async warm(model: string): Promise<number> {
    const seq = ++this.#seq;
    const version = await this.productionVersion(model);
    const entry = this.#acquire(model, version, seq, false);
    try {
      await entry.loading;
      return version;
    } finally {
      this.#release(entry);
    }
  }

  /** Unloads every version. */
  async close(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => this.#dispose(entry)));
  }

  #acquire(model: string, version: number, productionSeq: number | undefined, explicit: boolean): Entry {
    const key = versionKey(model, version);
    let entry = this.#entries.get(key);
    if (!entry) {
      const created: Entry = { key, model, version, inFlight: 0, retired: false, disposed: false, loading: undefined as unknown as Promise<Predictor> };
      created.loading = this.#load(model, version, explicit);
      created.loading.catch(() => this.#forget(created));
      this.#entries.set(key, created);
      entry = created;
    }
    entry.inFlight++;
    if (entry.idle !== undefined) {
      this.#timers.clear(entry.idle);
      entry.idle = undefined;
    }
    if (productionSeq !== undefined) this.#noteProduction(model, version, productionSeq);
    return entry;
  }

  async #load(model: string, version: number, explicit: boolean): Promise<Predictor> {
    const row = await this.#db().modelVersions.where('[name+version]').equals([model, version]).first();
    if (!row) {
      if (explicit) throw new UnknownVersionError(model, version);
      throw new NoProductionVersionError(model, `its production alias points to version ${version}, which does not exist`);
    }
    return this.#predictors(row);
  }

  /** A newer observation of the production alias retires the version seen before it. */
  #noteProduction(model: string, version: number, seq: number): void {
    const seen = this.#production.get(model);
    if (seen && seen.seq > seq) return;
    this.#production.set(model, { version, seq });
    if (seen && seen.version !== version) {
      const old = this.#entries.get(versionKey(model, seen.version));
      if (old) {
        old.retired = true;
        if (old.inFlight === 0) void this.#dispose(old);
      }
    }
  }

  #isProduction(entry: Entry): boolean {
    return this.#production.get(entry.model)?.version === entry.version;
  }

  #release(entry: Entry): void {
    entry.inFlight--;
    if (entry.inFlight > 0 || entry.disposed || this.#entries.get(entry.key) !== entry || this.#isProduction(entry)) return;
    // A retired production version goes at once; a version asked for by number stays a while.
    if (entry.retired || this.#idleMs <= 0) void this.#dispose(entry);
    else entry.idle = this.#timers.set(() => void this.#dispose(entry), this.#idleMs);
  }

  #forget(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    entry.disposed = true;
  }

  async #dispose(entry: Entry): Promise<void> {
    if (entry.disposed) return;
    this.#forget(entry);
    if (entry.idle !== undefined) this.#timers.clear(entry.idle);
    try {
      await (await entry.loading).dispose();
    } catch {
      // A version that failed to load, or whose worker is gone, has nothing left to free.
    }
  }
}
