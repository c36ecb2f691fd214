import type { LoupeDb } from '../../../src/lib/db/db';
import type { InferenceLogRow } from '../../../src/lib/db/types';
import { InferenceLogger } from '../../../src/lib/monitoring/log';
import type { PredictionRecord } from '../../../src/lib/serving/types';

const LABELS = ['negative', 'neutral', 'positive'];

/** A small seeded generator (mulberry32), so every run draws the same traffic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` sentiment predictions spread over `minutes` minutes from `start`, two versions, varied latency,
 * confidence and text length (a long tail of latencies, like real traffic).
 */
export function traffic(n: number, options: { start?: number; minutes?: number; seed?: number; textLength?: () => number; model?: string } = {}): PredictionRecord[] {
  const random = rng(options.seed ?? 1);
  const start = options.start ?? 1_699_999_980_000; // a whole minute
  const minutes = options.minutes ?? 30;
  return Array.from({ length: n }, (_, i) => {
    const index = Math.floor(random() * 3);
    const score = 0.34 + random() * 0.66;
    const length = options.textLength?.() ?? 5 + Math.floor(random() * 60);
    return {
      ts: start + Math.floor((i / n) * minutes * 60_000),
      model: options.model ?? 'sentiment',
      version: i < n / 2 ? 1 : 2,
      task: 'text-classification',
      source: 'rest',
      input: { text: 'word '.repeat(Math.ceil(length / 5)).slice(0, length) || 'x' },
      prediction: { kind: 'classification', label: LABELS[index]!, index, score, probabilities: [0, 0, 0].map((_, j) => (j === index ? score : (1 - score) / 2)) },
      labels: LABELS,
      latencyMs: random() < 0.05 ? 200 + random() * 800 : 2 + random() * 30,
      backend: 'cpu',
      batchSize: 1,
    };
  });
}

/** Writes predictions through the real logger (one transaction for the rows, then one for their rollups). */
export async function writeThroughLogger(db: LoupeDb, records: PredictionRecord[], vocabulary?: ReadonlySet<string>): Promise<InferenceLoggerHandle> {
  const logger = new InferenceLogger(db, {
    maxBatch: Math.max(1, records.length), // one group: its rollups sum in the order rollupsOf(rows) does
    retention: async () => ({ maxRows: 0, maxAgeDays: 0, keepImages: false }),
    vocabulary: async () => vocabulary,
  });
  for (const record of records) logger.record(record);
  await logger.flush();
  return logger;
}

export type InferenceLoggerHandle = InferenceLogger;

export const allRows = (db: LoupeDb): Promise<InferenceLogRow[]> => db.inferenceLog.toArray();
