import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { LoupeDb } from '../../src/lib/db/db';
import type { SchemaVersion } from '../../src/lib/db/schema';
import type { InferenceLogRow, RunRow } from '../../src/lib/db/types';

let dbCounter = 0;

/** A fresh in-memory database per call (its own IDBFactory, so tests never share state). */
export function makeDb(versions?: readonly SchemaVersion[], factory = new IDBFactory(), name = `test-${++dbCounter}`): LoupeDb {
  return new LoupeDb(name, { indexedDB: factory, IDBKeyRange }, versions);
}

export function makeRun(overrides: Partial<RunRow> = {}): RunRow {
  return {
    id: `run-${++dbCounter}`,
    name: 'coin baseline',
    task: 'coin-year',
    status: 'completed',
    createdAt: 1_700_000_000_000,
    params: { epochs: 3, batchSize: 16 },
    seed: 42,
    datasetVersion: 'abc123',
    appVersion: '0.1.0',
    ...overrides,
  };
}

export function makeLogRow(overrides: Partial<InferenceLogRow> = {}): InferenceLogRow {
  return {
    ts: 1_700_000_000_000,
    model: 'sentiment',
    version: 1,
    source: 'ui',
    input: { text: 'Beautiful post!!!' },
    output: { label: 'positive' },
    score: 0.99,
    latencyMs: 16.3,
    backend: 'wasm',
    ...overrides,
  };
}
