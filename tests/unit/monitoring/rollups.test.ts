import { describe, expect, it } from 'vitest';
import { LATENCY_EDGES_MS, binIndex } from '../../../src/lib/monitoring/bins';
import { figuresOf, percentile } from '../../../src/lib/monitoring/metrics';
import { hourKey, minuteOf, readRollups, readWindow, rebuildRollups, rollupsOf, sumRollups } from '../../../src/lib/monitoring/rollups';
import { setFeedback } from '../../../src/lib/monitoring/log';
import type { InferenceLogRow, RollupRow } from '../../../src/lib/db/types';
import { makeDb } from '../factories';
import { allRows, traffic, writeThroughLogger } from './helpers';

/** Aggregates of raw rows per minute, computed directly (not through the rollup code under test). */
function directAggregates(rows: InferenceLogRow[]) {
  const byMinute = new Map<number, InferenceLogRow[]>();
  for (const row of rows) {
    const minute = Math.floor(row.ts / 60_000) * 60_000;
    byMinute.set(minute, [...(byMinute.get(minute) ?? []), row]);
  }
  return new Map(
    [...byMinute].map(([minute, list]) => {
      const versions: Record<string, number> = {};
      const outputs: Record<string, number> = {};
      for (const row of list) {
        versions[row.version] = (versions[row.version] ?? 0) + 1;
        const label = (row.output as { label: string }).label;
        outputs[label] = (outputs[label] ?? 0) + 1;
      }
      return [
        minute,
        {
          count: list.length,
          latencySum: list.reduce((s, r) => s + r.latencyMs, 0),
          scoreSum: list.reduce((s, r) => s + (r.score ?? 0), 0),
          versions,
          outputs,
          textLengths: list.map((r) => r.input.text!.length),
        },
      ];
    }),
  );
}

/** Float sums depend on the order of addition: compare them to 1e-6. */
function rounded(rollup: RollupRow): RollupRow {
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return { ...rollup, latency: { ...rollup.latency, sum: r(rollup.latency.sum) }, score: { ...rollup.score, sum: r(rollup.score.sum) }, feedback: { ...rollup.feedback, absError: r(rollup.feedback.absError) } };
}

describe('rollups', () => {
  it('equal aggregates computed from the raw rows, minute by minute, when written through the logger', async () => {
    const db = makeDb();
    await writeThroughLogger(db, traffic(1500, { minutes: 17 }));
    const rows = await allRows(db);
    const stored = await db.rollups.where('model').equals('sentiment').toArray();
    const direct = directAggregates(rows);
    expect(stored).toHaveLength(direct.size);
    for (const rollup of stored) {
      const d = direct.get(rollup.minute)!;
      expect(rollup.count).toBe(d.count);
      expect(rollup.latency.sum).toBeCloseTo(d.latencySum, 6);
      expect(rollup.score.sum).toBeCloseTo(d.scoreSum, 6);
      expect(rollup.score.count).toBe(d.count);
      expect(rollup.versions).toEqual(d.versions);
      expect(rollup.outputs).toEqual(d.outputs);
      expect(rollup.latency.bins.reduce((a, b) => a + b, 0)).toBe(d.count);
      expect(rollup.inputs.textLength!.reduce((a, b) => a + b, 0)).toBe(d.textLengths.length);
    }
    // The same rollups as computing them in one go from the rows read back.
    const fromRows = rollupsOf(rows).sort((a, b) => a.minute - b.minute);
    expect(stored.sort((a, b) => a.minute - b.minute)).toEqual(fromRows);
  });

  it('answer a window: summed minutes give the raw rows\' count, mean latency and percentiles within one bin', async () => {
    const db = makeDb();
    const start = 1_699_999_980_000; // a whole minute
    await writeThroughLogger(db, traffic(2000, { start, minutes: 60, seed: 7 }));
    const [from, to] = [start + 10 * 60_000, start + 40 * 60_000];
    const rows = (await allRows(db)).filter((r) => r.ts >= from && r.ts < to);
    const window = sumRollups('sentiment', await readRollups(db, 'sentiment', from, to - 60_000));
    const figures = figuresOf(window);
    expect(figures.count).toBe(rows.length);
    expect(figures.meanLatency).toBeCloseTo(rows.reduce((s, r) => s + r.latencyMs, 0) / rows.length, 6);
    const sorted = rows.map((r) => r.latencyMs).sort((a, b) => a - b);
    for (const [q, estimate] of [[0.5, figures.p50], [0.95, figures.p95], [0.99, figures.p99]] as const) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      // Interpolated inside the bin that holds the exact quantile.
      const bin = binIndex(LATENCY_EDGES_MS, exact);
      expect(estimate!).toBeGreaterThanOrEqual(bin === 0 ? 0 : LATENCY_EDGES_MS[bin - 1]!);
      expect(estimate!).toBeLessThanOrEqual(LATENCY_EDGES_MS[bin]!);
    }
  });

  it('keep hourly rollups equal to the sum of their minutes, and answer long windows with them exactly', async () => {
    const db = makeDb();
    const start = 1_699_999_980_000;
    await writeThroughLogger(db, traffic(3000, { start, minutes: 9 * 60, seed: 9 }));
    const minutes = await db.rollups.where('model').equals('sentiment').toArray();
    const hours = await db.rollups.where('model').equals(hourKey('sentiment')).toArray();
    expect(hours.length).toBeGreaterThanOrEqual(9);
    for (const hour of hours) {
      const own = minutes.filter((m) => m.minute >= hour.minute && m.minute < hour.minute + 3_600_000);
      expect(rounded({ ...hour, model: 'sentiment', span: undefined })).toEqual(rounded({ ...sumRollups('sentiment', own), minute: hour.minute, span: undefined }));
    }
    // A window with ragged ends: minute rollups at both ends, whole hours between.
    const [from, to] = [start + 17 * 60_000, start + 8 * 3_600_000 + 23 * 60_000];
    const mixed = await readWindow(db, 'sentiment', from, to);
    expect(mixed.length).toBeLessThan((await readRollups(db, 'sentiment', from, to)).length);
    const fromMinutes = sumRollups('sentiment', await readRollups(db, 'sentiment', from, to));
    expect(rounded({ ...sumRollups('sentiment', mixed), minute: 0 })).toEqual(rounded({ ...fromMinutes, minute: 0 }));
  });

  it('count failed requests as errors and keep feedback figures right as labels are set, changed and cleared', async () => {
    const db = makeDb();
    const start = 1_699_999_980_000;
    const logger = await writeThroughLogger(db, traffic(10, { start, minutes: 1 }));
    logger.recordFailure({ ts: start + 5, model: 'sentiment', version: 1, source: 'rest', error: 'WorkerCrashedError' });
    logger.recordFailure({ ts: start + 6, model: 'sentiment', version: 1, source: 'rest', error: 'WorkerCrashedError' });
    await logger.flush();
    const [row1, row2] = await db.inferenceLog.limit(2).toArray();
    const label1 = (row1!.output as { label: string }).label;
    await setFeedback(db, row1!.id!, label1); // right
    await setFeedback(db, row2!.id!, label1 === 'negative' ? 'positive' : 'negative'); // set…
    await setFeedback(db, row2!.id!, (row2!.output as { label: string }).label); // …changed to right
    const rollup = (await db.rollups.get(['sentiment', minuteOf(start)])) as RollupRow;
    expect(rollup.errors).toBe(2);
    expect(figuresOf(rollup).errorRate).toBeCloseTo(2 / 12);
    expect(rollup.feedback).toEqual({ count: 2, correct: 2, absError: 0 });
    await setFeedback(db, row1!.id!, undefined);
    expect((await db.rollups.get(['sentiment', minuteOf(start)]))!.feedback).toEqual({ count: 1, correct: 1, absError: 0 });
    // The hour's rollup follows its minutes.
    const hour = (await db.rollups.where('model').equals(hourKey('sentiment')).first())!;
    expect({ errors: hour.errors, feedback: hour.feedback }).toEqual({ errors: 2, feedback: { count: 1, correct: 1, absError: 0 } });
  });

  it('are rebuilt from the raw log exactly as the incremental writes left them', async () => {
    const db = makeDb();
    await writeThroughLogger(db, [...traffic(400, { seed: 3 }), ...traffic(100, { seed: 4, model: 'tweets-b' })]);
    const incremental = (await db.rollups.toArray()).sort((a, b) => a.model.localeCompare(b.model) || a.minute - b.minute);
    await db.rollups.clear();
    await expect(rebuildRollups(db, undefined, 64)).resolves.toBe(500);
    const rebuilt = (await db.rollups.toArray()).sort((a, b) => a.model.localeCompare(b.model) || a.minute - b.minute);
    expect(rebuilt).toEqual(incremental);
  });

  it('interpolate percentiles inside the bin and read the overflow bin as the last edge', () => {
    expect(percentile([0, 10, 0], [1, 2], 0.5)).toBeCloseTo(1.5);
    expect(percentile([0, 0, 4], [1, 2], 0.99)).toBe(2);
    expect(percentile([0, 0, 0], [1, 2], 0.5)).toBeUndefined();
  });
});
