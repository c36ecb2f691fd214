/**
 * The inference log's group commit (src/lib/monitoring/log.ts): `record` resolves once the row is
 * committed, and the SDK answers only then. Clients that each send one prediction after another (1 …
 * 256 of them at once) measure rows committed per second, how long each answer waited for its row
 * (p50/p95: the latency the durable log adds to a request) and rows per transaction. Plain code over
 * any Dexie database: fake-indexeddb in Node (`npm run bench -- --only log`), real IndexedDB in Chromium
 * (`npm run bench -- --only browser-log`, scripts/bench/browser/main.ts).
 */
import type { Table } from 'dexie';
import type { LoupeDb } from '../../src/lib/db/db';
import { InferenceLogger } from '../../src/lib/monitoring/log';
import type { PredictionRecord } from '../../src/lib/serving/types';

export interface GroupCommitResult {
  /** `8 clients` (each awaits its answer before the next request) or `1000/s` (requests at a steady rate, answers not awaited). */
  load: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Time from `record` to its row being committed, ms. */
  p50: number;
  p95: number;
  rowsPerTransaction: number;
}

export const GROUP_COMMIT_LOADS: readonly string[] = ['1 client', '8 clients', '64 clients', '256 clients', '500/s', '2000/s'];

const LABELS = ['negative', 'neutral', 'positive'];

const prediction = (i: number): PredictionRecord => ({
  ts: Date.now(),
  model: 'bench-log',
  version: 1,
  task: 'text-classification',
  source: 'rest',
  input: { text: `request number ${i}: the service was great` },
  prediction: { kind: 'classification', label: 'positive', index: 2, score: 0.9, probabilities: [0.05, 0.05, 0.9] },
  labels: LABELS,
  latencyMs: 5,
  batchSize: 1,
  backend: 'wasm',
});

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/**
 * `rows` predictions per load through a fresh `InferenceLogger` (no retention pruning, no vocabulary: the
 * figures are the group commit's): closed loops of N clients, each awaiting its row before sending the
 * next (throughput), and steady arrival rates below it (what an answer waits at that traffic).
 */
export async function benchGroupCommit(db: LoupeDb, rows: number, loads = GROUP_COMMIT_LOADS): Promise<GroupCommitResult[]> {
  const results: GroupCommitResult[] = [];
  const table = db.inferenceLog;
  const bulkAdd = table.bulkAdd;
  let transactions = 0;
  // Counts transactions: one bulkAdd each (an own property on this table object, removed after).
  table.bulkAdd = function (this: typeof table, ...args: Parameters<typeof bulkAdd>) {
    transactions++;
    return bulkAdd.apply(this, args);
  } as typeof bulkAdd;
  try {
    for (const load of loads) {
      const logger = new InferenceLogger(db, { retention: async () => ({ maxRows: 0, maxAgeDays: 0, keepImages: false }), vocabulary: async () => undefined });
      await Promise.all(Array.from({ length: 20 }, (_, i) => logger.record(prediction(-i)))); // warm-up…
      await logger.flush(); // …and its rollups and first retention pass (a scan of the whole log), before the clock starts
      const before = await table.count();
      transactions = 0;
      const waits: number[] = [];
      let next = 0;
      const send = async () => {
        const record = prediction(next++);
        const sent = performance.now();
        await logger.record(record);
        waits.push(performance.now() - sent);
      };
      const started = performance.now();
      if (load.endsWith('/s')) {
        // Open loop: every request that is due is sent, whether or not earlier ones were answered.
        const perMs = Number.parseFloat(load) / 1000;
        const answers: Promise<void>[] = [];
        while (next < rows) {
          const due = Math.min(rows, Math.floor((performance.now() - started) * perMs) + 1);
          while (next < due) answers.push(send());
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await Promise.all(answers);
      } else {
        const client = async () => {
          while (next < rows) await send();
        };
        await Promise.all(Array.from({ length: Number.parseInt(load, 10) }, client));
      }
      const seconds = (performance.now() - started) / 1000;
      const written = (await table.count()) - before;
      if (written !== rows) throw new Error(`${load}: the log stored ${written} of ${rows} rows`);
      waits.sort((a, b) => a - b);
      results.push({ load, rows, seconds, rowsPerSecond: rows / seconds, p50: percentile(waits, 50), p95: percentile(waits, 95), rowsPerTransaction: rows / transactions });
    }
  } finally {
    delete (table as { bulkAdd?: unknown }).bulkAdd;
    if (table.bulkAdd !== bulkAdd) table.bulkAdd = bulkAdd;
  }
  return results;
}

export interface CommitStep {
  step: string;
  p50: number;
  p95: number;
}

const summary = (step: string, times: number[]): CommitStep => {
  const sorted = [...times].sort((a, b) => a - b);
  return { step, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
};

/**
 * Where one answer's wait goes at 1 client: the row's preparation, then single-row transactions of growing
 * scope, each awaited before the next, `rounds` times: a bare `add` in raw IndexedDB (the floor any
 * durable log pays), the same through Dexie, and the stores a group commit touches. For the scopes written
 * through Dexie, "opened" is the time to the transaction's callback and "requests" to its last request's
 * success; the rest is the commit.
 */
export async function benchCommitSteps(db: LoupeDb, idb: IDBFactory, rounds: number): Promise<CommitStep[]> {
  const { toLogRow } = await import('../../src/lib/monitoring/log');
  const { applyToRollups } = await import('../../src/lib/monitoring/rollups');
  const { readLogRetention } = await import('../../src/lib/serving/config');
  const out: CommitStep[] = [];
  const built: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await toLogRow(prediction(i), true);
    built.push(performance.now() - t);
  }
  out.push(summary('row built (toLogRow: input statistics)', built));

  const row = await toLogRow(prediction(0), true);
  const raw = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = idb.open(`bench-floor-${Date.now()}`, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('rows', { autoIncrement: true });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  // The default, then each durability hint (Chromium: "strict" flushes to disk before `complete`).
  for (const durability of [undefined, 'strict', 'relaxed'] as const) {
    const bare: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) => {
        const tx = raw.transaction('rows', 'readwrite', durability ? { durability } : undefined);
        tx.objectStore('rows').add({ ...row });
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      bare.push(performance.now() - t);
    }
    out.push(summary(`raw IndexedDB: add 1 row, 1 store${durability ? `, durability ${durability}` : ''}`, bare));
  }
  raw.close();

  const scopes: [string, Table[], () => Promise<unknown>][] = [
    ['Dexie: add 1 row (inferenceLog)', [db.inferenceLog], () => db.inferenceLog.add({ ...row })],
    ['Dexie: bulkAdd 1 row, allKeys (inferenceLog)', [db.inferenceLog], () => db.inferenceLog.bulkAdd([{ ...row }], { allKeys: true })],
    ['Dexie: 1 row + read retention (inferenceLog, settings)', [db.inferenceLog, db.settings], () => Promise.all([db.inferenceLog.add({ ...row }), readLogRetention(db)])],
    [
      'Dexie: 1 row + rollups + retention (the group transaction before)',
      [db.inferenceLog, db.rollups, db.settings],
      () => Promise.all([readLogRetention(db), db.inferenceLog.bulkAdd([{ ...row }]), applyToRollups(db, [row])]),
    ],
    ['Dexie: rollups + retention, no row', [db.rollups, db.settings], () => Promise.all([readLogRetention(db), applyToRollups(db, [row])])],
  ];
  for (const [step, stores, body] of scopes) {
    const total: number[] = [];
    const opened: number[] = [];
    const requests: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await db.transaction('rw', stores, async () => {
        opened.push(performance.now() - t);
        await body();
        requests.push(performance.now() - t);
      });
      total.push(performance.now() - t);
    }
    out.push(summary(`${step}: opened`, opened), summary(`${step}: requests done`, requests), summary(`${step}: committed`, total));
  }
  // The same single add, with a scope that returns Dexie's promise instead of awaiting it (Dexie keeps its
  // transaction zone across native awaits by echoing it through extra ticks).
  const direct: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await db.transaction('rw', db.inferenceLog, () => db.inferenceLog.add({ ...row }));
    direct.push(performance.now() - t);
  }
  out.push(summary('Dexie: add 1 row (inferenceLog), scope returns the promise: committed', direct));
  const logger = new InferenceLogger(db, { retention: async () => ({ maxRows: 0, maxAgeDays: 0, keepImages: false }), vocabulary: async () => undefined });
  const recorded: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await logger.record(prediction(i));
    recorded.push(performance.now() - t);
  }
  await logger.flush();
  out.push(summary('InferenceLogger.record, one after another (the answer waits)', recorded));
  return out;
}
