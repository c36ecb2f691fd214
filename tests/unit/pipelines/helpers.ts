import type { LoupeDb } from '../../../src/lib/db/db';
import type { PipelineRow } from '../../../src/lib/db/types';
import { defaultConfig, newPipeline } from '../../../src/lib/pipelines/config';
import type { PipelineConfig } from '../../../src/lib/pipelines/types';

export const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

/** A sentiment pipeline for model `sentiment` created at T0, with config overrides. */
export function makePipeline(overrides: Partial<PipelineRow> = {}, config: Partial<PipelineConfig> = {}): PipelineRow {
  const base = newPipeline('sentiment', 'text-classification', T0);
  return { ...base, config: { ...defaultConfig('text-classification'), ...config }, ...overrides };
}

/** A clock tests move by hand. */
export function fakeClock(start = T0) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
      return now;
    },
    set(t: number) {
      now = t;
    },
  };
}

export async function storePipeline(db: LoupeDb, row: PipelineRow): Promise<PipelineRow> {
  await db.pipelines.put(row);
  return row;
}

/** A promise with its resolve handle (to hold a step open while a test looks). */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
