import { describe, expect, it } from 'vitest';
import type { GateDecisionRow } from '../../../src/lib/db/types';
import { chartToCsv, chartToJson, dashboardData, effectiveBucket } from '../../../src/lib/monitoring/charts';
import { rollupsOf } from '../../../src/lib/monitoring/rollups';
import { makeLogRow } from '../factories';

const T0 = 1_699_999_980_000;
const MIN = 60_000;

describe('dashboard data', () => {
  const rows = [
    makeLogRow({ ts: T0 + 5_000, version: 1, latencyMs: 10, score: 0.9, output: { kind: 'classification', label: 'positive' } }),
    makeLogRow({ ts: T0 + 7_000, version: 1, latencyMs: 30, score: 0.5, output: { kind: 'classification', label: 'negative' }, feedback: 'negative' }),
    makeLogRow({ ts: T0 + 3 * MIN, version: 2, latencyMs: 20, score: 0.7, output: { kind: 'classification', label: 'positive' }, feedback: 'negative' }),
  ];
  const promotion = { id: 'p', name: 'sentiment', ts: T0 + 2 * MIN, kind: 'gate', outcome: 'promoted', trigger: 'manual', version: 2, productionBefore: 1, productionAfter: 2, reason: '' } as GateDecisionRow;

  it('buckets traffic per version, marks the promotion, and sums the window', () => {
    const data = dashboardData('sentiment', rollupsOf(rows), { from: T0, to: T0 + 5 * MIN, bucketMs: MIN, promotions: [promotion] });
    const requests = data.charts.find((c) => c.key === 'requests')!;
    expect(requests.x).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MIN));
    expect(requests.series.map((s) => [s.label, s.values])).toEqual([
      ['all', [2, 0, 0, 1, 0]],
      ['v1', [2, 0, 0, 0, 0]],
      ['v2', [0, 0, 0, 1, 0]],
    ]);
    expect(data.markers).toEqual([{ ts: T0 + 2 * MIN, label: 'v2 in production' }]);
    expect(data.totals).toMatchObject({ count: 3, feedbackCount: 2, feedbackAccuracy: 0.5 });
    expect(data.charts.find((c) => c.key === 'confidence')!.series[0]!.values).toEqual([0.7, null, null, 0.7, null]);
    expect(data.distribution).toEqual([
      { label: 'negative', value: 1 / 3 },
      { label: 'positive', value: 2 / 3 },
    ]);
  });

  it('exports a chart as CSV and JSON, one row per bucket', () => {
    const data = dashboardData('sentiment', rollupsOf(rows.slice(0, 2)), { from: T0, to: T0 + 2 * MIN, bucketMs: MIN });
    const requests = data.charts.find((c) => c.key === 'requests')!;
    expect(chartToCsv(requests)).toBe(`time,all,v1\n${new Date(T0).toISOString()},2,2\n${new Date(T0 + MIN).toISOString()},0,0\n`);
    expect(JSON.parse(chartToJson(requests))).toEqual({
      chart: 'requests',
      title: 'Predictions by version',
      unit: 'per 1 min',
      points: [
        { time: new Date(T0).toISOString(), all: 2, v1: 2 },
        { time: new Date(T0 + MIN).toISOString(), all: 0, v1: 0 },
      ],
    });
  });

  it('coarsens buckets that would draw too many points', () => {
    expect(effectiveBucket(15 * MIN, undefined)).toBe(MIN);
    expect(effectiveBucket(30 * 24 * 60 * MIN, MIN)).toBe(60 * MIN); // 720 points
    expect(effectiveBucket(24 * 60 * MIN, 5 * MIN)).toBe(5 * MIN);
  });
});
