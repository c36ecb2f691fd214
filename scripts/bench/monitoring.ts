/**
 * Monitoring at scale, in Node over fake-indexeddb (the unit tests' IndexedDB; a browser's is faster):
 *
 * - write throughput of the inference log through the real `InferenceLogger` (batches of 50, input
 *   statistics, rows and rollups in one transaction), and the same writes with rollups off;
 * - with `rows` log rows spread over 30 days, the time to compute each Monitor chart's data for each
 *   time range from rollups, against computing it from the raw rows.
 *
 *   npm run bench -- --only monitoring                       # 1,000,000 rows
 *   npm run bench -- --only monitoring --monitor-rows 200000 --monitor-writes 20000
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { LoupeDb } from '../../src/lib/db/db';
import type { InferenceLogRow, RollupRow } from '../../src/lib/db/types';
import { dashboardData, effectiveBucket, RANGES } from '../../src/lib/monitoring/charts';
import { driftReport } from '../../src/lib/monitoring/drift';
import { prometheusText } from '../../src/lib/monitoring/prometheus';
import type { ReferenceProfile } from '../../src/lib/monitoring/reference';
import { applyToRollups, HOUR_MS, readRollups, readWindow, rollupsOf, sumRollups } from '../../src/lib/monitoring/rollups';
import { InferenceLogger } from '../../src/lib/monitoring/log';
import type { PredictionRecord } from '../../src/lib/serving/types';
import { median, printTable } from './env';

export interface MonitoringBenchResult {
  rows: number;
  days: number;
  rollups: number;
  write: { mode: string; rows: number; seconds: number; rowsPerSecond: number }[];
  loadSeconds: number;
  charts: { range: string; bucket: string; rollupsRead: number; fromRollupsMs: number; rawRows?: number; fromRawMs?: number }[];
  prometheusMs: number;
}

const LABELS = ['negative', 'neutral', 'positive'];
const DAY_MS = 24 * 60 * 60 * 1000;

/** A seeded stream of plausible sentiment predictions (mulberry32). */
function generator(seed: number) {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (ts: number, version: number): PredictionRecord => {
    const index = Math.floor(random() * 3);
    const score = 0.34 + random() * 0.66;
    return {
      ts,
      model: 'sentiment',
      version,
      task: 'text-classification',
      source: 'rest',
      input: { text: 'a tweet about the weather '.slice(0, 8 + Math.floor(random() * 18)) },
      prediction: { kind: 'classification', label: LABELS[index]!, index, score, probabilities: [0, 1, 2].map((j) => (j === index ? score : (1 - score) / 2)) },
      labels: LABELS,
      latencyMs: random() < 0.03 ? 150 + random() * 600 : 2 + random() * 25,
      backend: 'wasm',
      batchSize: 1,
    };
  };
}

const freshDb = (name: string) => new LoupeDb(name, { indexedDB: new IDBFactory(), IDBKeyRange });

async function timeWrites(mode: 'rollups on' | 'rollups off', count: number): Promise<MonitoringBenchResult['write'][number]> {
  const db = freshDb(`bench-write-${mode}`);
  const next = generator(7);
  const start = Date.now() - DAY_MS;
  const records = Array.from({ length: count }, (_, i) => next(start + i * 100, 1));
  const began = performance.now();
  if (mode === 'rollups on') {
    const logger = new InferenceLogger(db, { maxBatch: 50, retention: async () => ({ maxRows: 0, maxAgeDays: 0, keepImages: false }), vocabulary: async () => undefined });
    for (const record of records) logger.record(record);
    await logger.flush();
  } else {
    // The log as it was before monitoring: the same rows in the same batches, without statistics or rollups.
    for (let i = 0; i < records.length; i += 50) {
      await db.inferenceLog.bulkAdd(
        records.slice(i, i + 50).map((r) => ({ ts: r.ts, model: r.model, version: r.version, task: r.task, source: r.source, input: { text: (r.input as { text: string }).text }, output: r.prediction, score: 0.5, latencyMs: r.latencyMs, backend: r.backend, batchSize: 1 })),
      );
    }
  }
  const seconds = (performance.now() - began) / 1000;
  if ((await db.inferenceLog.count()) !== count) throw new Error(`${mode}: wrote ${await db.inferenceLog.count()} rows, expected ${count}`);
  db.close();
  return { mode, rows: count, seconds, rowsPerSecond: count / seconds };
}

/**
 * Loads `rows` rows spread evenly over `days` days (two versions, a promotion half-way) in chunks, each
 * chunk with its rollups in one transaction — the write path's code with bigger batches.
 */
async function loadLog(db: LoupeDb, rows: number, days: number, now: number): Promise<number> {
  const next = generator(11);
  const start = now - days * DAY_MS;
  const step = (days * DAY_MS) / rows;
  const chunk = 20_000;
  const began = performance.now();
  for (let i = 0; i < rows; i += chunk) {
    const batch: InferenceLogRow[] = [];
    for (let j = i; j < Math.min(rows, i + chunk); j++) {
      const r = next(Math.floor(start + j * step), j < rows / 2 ? 1 : 2);
      const p = r.prediction as { label: string; score: number };
      batch.push({
        ts: r.ts, model: r.model, version: r.version, task: r.task, source: r.source, input: { text: (r.input as { text: string }).text }, output: r.prediction,
        score: p.score, labels: LABELS, latencyMs: r.latencyMs, backend: r.backend, batchSize: 1, stats: { textLength: (r.input as { text: string }).text.length },
      });
    }
    await db.transaction('rw', db.inferenceLog, db.rollups, async () => {
      await db.inferenceLog.bulkAdd(batch);
      await applyToRollups(db, batch);
    });
    if ((i / chunk) % 10 === 0) process.stdout.write(`\r  loaded ${Math.min(rows, i + chunk).toLocaleString('en')} / ${rows.toLocaleString('en')} rows`);
  }
  process.stdout.write('\n');
  return (performance.now() - began) / 1000;
}

async function timed<T>(reps: number, body: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const began = performance.now();
    value = await body();
    times.push(performance.now() - began);
  }
  return { ms: median(times), value };
}

export async function benchMonitoring(options: { rows: number; writes: number; reps?: number; rawUpTo?: number }): Promise<MonitoringBenchResult> {
  const reps = options.reps ?? 3;
  const days = 30;
  console.log(`Inference log writes through the InferenceLogger (batches of 50), ${options.writes.toLocaleString('en')} rows:`);
  const write = [await timeWrites('rollups off', options.writes), await timeWrites('rollups on', options.writes)];
  printTable(
    ['mode', 'rows', 's', 'rows/s'],
    write.map((w) => [w.mode, w.rows, w.seconds.toFixed(2), Math.round(w.rowsPerSecond)]),
  );

  console.log(`\nLoading ${options.rows.toLocaleString('en')} log rows over ${days} days (chunks of 20,000 with their rollups):`);
  const db = freshDb('bench-monitoring');
  const now = Date.now();
  const loadSeconds = await loadLog(db, options.rows, days, now);
  const rollupCount = await db.rollups.count();
  console.log(`  ${loadSeconds.toFixed(1)} s; ${rollupCount.toLocaleString('en')} rollups (per minute and per hour)`);
  await db.gateDecisions.add({ id: 'promo', name: 'sentiment', ts: now - (days / 2) * DAY_MS, kind: 'gate', outcome: 'promoted', trigger: 'manual', version: 2, productionBefore: 1, productionAfter: 2, reason: 'bench' });
  const promotions = await db.gateDecisions.toArray();
  const referenceRollup: RollupRow = sumRollups('sentiment', await readRollups(db, 'sentiment', now - 2 * DAY_MS, now - DAY_MS));
  const reference: ReferenceProfile = { model: 'sentiment', version: 2, datasetId: 'bench', split: 'val', createdAt: now, vocabulary: [], summary: referenceRollup };

  const rawUpTo = options.rawUpTo ?? 7 * DAY_MS;
  const charts: MonitoringBenchResult['charts'] = [];
  for (const range of RANGES) {
    const from = now - range.ms;
    const bucketMs = effectiveBucket(range.ms, undefined);
    const fromRollups = await timed(reps, async () => {
      const rollups = await readWindow(db, 'sentiment', from, now, bucketMs >= HOUR_MS);
      const data = dashboardData('sentiment', rollups, { from, to: now, bucketMs, promotions });
      driftReport(sumRollups('sentiment', rollups), reference);
      return { rollups: rollups.length, data };
    });
    const row: MonitoringBenchResult['charts'][number] = { range: range.label, bucket: `${bucketMs / 60_000} min`, rollupsRead: fromRollups.value.rollups, fromRollupsMs: fromRollups.ms };
    if (range.ms <= rawUpTo) {
      // The same charts from raw rows: read the window's rows, aggregate them, then the same drawing code.
      const fromRaw = await timed(reps, async () => {
        const rows = await db.inferenceLog.where('[model+ts]').between(['sentiment', from], ['sentiment', now], true, true).toArray();
        const rollups = rollupsOf(rows);
        dashboardData('sentiment', rollups, { from, to: now, bucketMs, promotions });
        driftReport(sumRollups('sentiment', rollups), reference);
        return rows.length;
      });
      row.rawRows = fromRaw.value;
      row.fromRawMs = fromRaw.ms;
    }
    charts.push(row);
  }
  console.log(`\nAll Monitor charts (traffic, latency p50/p95/p99, confidence, errors, accuracy, distribution) + drift, median of ${reps}:`);
  printTable(
    ['range', 'bucket', 'rollups read', 'from rollups ms', 'raw rows', 'from raw rows ms'],
    charts.map((c) => [c.range, c.bucket, c.rollupsRead, c.fromRollupsMs.toFixed(1), c.rawRows ?? '—', c.fromRawMs?.toFixed(1) ?? '—']),
  );
  const prometheus = await timed(reps, () => prometheusText(db, now));
  console.log(`\nGET /api/metrics exposition over every rollup: ${prometheus.ms.toFixed(1)} ms (${prometheus.value.length.toLocaleString('en')} bytes)\n`);
  db.close();
  return { rows: options.rows, days, rollups: rollupCount, write, loadSeconds, charts, prometheusMs: prometheus.ms };
}
