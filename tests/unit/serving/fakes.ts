import type { LoupeDb } from '../../../src/lib/db/db';
import type { ModelVersionRow, TaskName } from '../../../src/lib/db/types';
import { TASKS } from '../../../src/lib/tasks/registry';
import { taskOfVersion } from '../../../src/lib/tasks/names';
import type { Prediction, Predictor, PredictorFactory, ServingInput } from '../../../src/lib/serving/types';

/**
 * The smallest whole images of each format, 1 × 1 px (serving checks their containers, never their
 * pixels): what sharp writes for one pixel, as PNG, greyscale JPEG, GIF and lossless WebP.
 */
const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
export const PNG = fromBase64('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADElEQVR4nGM4kWIEAANWAV/oF4RSAAAAAElFTkSuQmCC');
export const JPEG = fromBase64(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z',
);
export const GIF = fromBase64('R0lGODlhAQABAIAAAExpcchkMiH5BAUAAAAALAAAAAABAAEAAAICTAEAOw==');
export const WEBP = fromBase64('UklGRh4AAABXRUJQVlA4TBEAAAAvAAAAAAdQsiJXpv+BiOh/AAA=');

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export async function addVersion(db: LoupeDb, name: string, version: number, overrides: Partial<ModelVersionRow> = {}): Promise<ModelVersionRow> {
  const row: ModelVersionRow = {
    id: `${name}-v${version}`,
    name,
    version,
    status: 'candidate',
    createdAt: 1_700_000_000_000 + version,
    metrics: {},
    ...overrides,
  };
  await db.modelVersions.put(row);
  return row;
}

/** Moves the `production` alias, as the registry's promotion does. */
export async function promote(db: LoupeDb, name: string, version: number): Promise<void> {
  await db.aliases.put({ name, alias: 'production', version, updatedAt: Date.now() });
}

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** What a fake predictor of a version answers: coin → 1800 + version; text → a label that names the version. */
function fakePrediction(task: TaskName, version: number, input: ServingInput): Prediction {
  if (TASKS[task].kind === 'regression') return { kind: 'regression', value: 1800 + version };
  const positive = 'text' in input ? /good|great|love/i.test(input.text) : false;
  const index = positive ? 2 : 0;
  const probabilities = [0.1, 0.1, 0.1];
  probabilities[index] = 0.8;
  return { kind: 'classification', label: ['negative', 'neutral', 'positive'][index]!, index, score: 0.8, probabilities };
}

/**
 * A predictor factory whose predictors record loads, calls and disposals, and whose `predict` can be
 * held at a gate (to keep requests in flight).
 */
export function fakePredictors(options: { gate?: (version: number) => Promise<void> | undefined; failLoad?: (row: ModelVersionRow) => Error | undefined } = {}) {
  const loads: string[] = [];
  const disposed: string[] = [];
  const calls: { key: string; inputs: ServingInput[] }[] = [];
  const factory: PredictorFactory = async (row) => {
    const key = `${row.name}@${row.version}`;
    loads.push(key);
    const failure = options.failLoad?.(row);
    if (failure) throw failure;
    const task = taskOfVersion(row) ?? 'text-classification';
    const predictor: Predictor = {
      task,
      backend: 'cpu',
      labels: TASKS[task].kind === 'regression' ? undefined : ['negative', 'neutral', 'positive'],
      async predict(inputs) {
        calls.push({ key, inputs });
        await options.gate?.(row.version);
        return inputs.map((input) => fakePrediction(task, row.version, input));
      },
      async dispose() {
        disposed.push(key);
      },
    };
    return predictor;
  };
  return { factory, loads, disposed, calls };
}

/** Lets pending promise chains (and fake-indexeddb's setImmediate tasks) run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
