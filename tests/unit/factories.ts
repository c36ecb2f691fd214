import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { LoupeDb } from '../../src/lib/db/db';
import type { SchemaVersion } from '../../src/lib/db/schema';
import type { InferenceLogRow, RunRow } from '../../src/lib/db/types';
import type { PredictionRecord } from '../../src/lib/serving/types';

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
    params: { task: 'coin-year', datasetId: 'abc123', model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small' }, epochs: 3, batchSize: 16 },
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

/** The i-th of a stream of sentiment predictions, as the serving layer hands them to the inference log. */
export function makePredictionRecord(i: number, overrides: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    ts: 1_700_000_000_000 + i,
    model: 'sentiment',
    version: 1,
    task: 'text-classification',
    source: 'rest',
    input: { text: `text ${i}` },
    prediction: { kind: 'classification', label: 'neutral', index: 1, score: 0.6, probabilities: [0.2, 0.6, 0.2] },
    latencyMs: 12,
    backend: 'cpu',
    batchSize: 1,
    ...overrides,
  };
}

/**
 * A small labelled text set built from word lists (positive / neutral / negative phrases in varied
 * templates), stored as a sentiment dataset with train and val splits.
 */
export async function seedSentimentDataset(db: LoupeDb, id = 'sentiment-test', perClass = 30): Promise<string> {
  const words = {
    negative: ['awful', 'terrible', 'hate', 'broken', 'worst', 'disappointing', 'angry', 'sad'],
    neutral: ['okay', 'scheduled', 'announced', 'located', 'average', 'update', 'listed', 'tuesday'],
    positive: ['great', 'love', 'amazing', 'wonderful', 'best', 'happy', 'excellent', 'beautiful'],
  };
  const templates = ['the service was {w}', '{w} day at the park', 'honestly {w} experience', 'this phone is {w}', 'my trip: {w} and {v}'];
  const samples = Object.entries(words).flatMap(([label, list]) =>
    Array.from({ length: perClass }, (_, i) => {
      const text = templates[i % templates.length]!.replace('{w}', list[i % list.length]!).replace('{v}', list[(i * 3 + 1) % list.length]!);
      return {
        id: `${id}-${label}-${i}`,
        datasetId: id,
        split: (i % 5 === 0 ? 'val' : 'train') as 'val' | 'train',
        label,
        hash: `${label}-${i}`,
        path: `row ${i}`,
        text,
      };
    }),
  );
  await db.datasets.add({ id, name: 'test sentences', task: 'text-classification', preset: 'sentiment', createdAt: 1, sampleCount: samples.length });
  await db.samples.bulkAdd(samples);
  return id;
}
