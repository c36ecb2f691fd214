import type { LoupeDb } from '../../../src/lib/db/db';
import type { ModelVersionRow, TaskName } from '../../../src/lib/db/types';
import { TASKS } from '../../../src/lib/tasks/registry';
import { taskOfVersion } from '../../../src/lib/tasks/names';
import type { Prediction, Predictor, PredictorFactory, ServingInput } from '../../../src/lib/serving/types';

/** The smallest byte strings each format is recognised by (serving never decodes pixels itself). */
export const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
export const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0]);
export const GIF = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
export const WEBP = new Uint8Array([...new TextEncoder().encode('RIFF'), 36, 0, 0, 0, ...new TextEncoder().encode('WEBPVP8 ')]);

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
    const task = taskOfVersion(row) ?? 'sentiment';
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
