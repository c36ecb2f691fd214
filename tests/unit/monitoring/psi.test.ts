import { describe, expect, it } from 'vitest';
import { driftReport, MIN_LIVE_FOR_DRIFT } from '../../../src/lib/monitoring/drift';
import { categoricalPsi, driftLevel, psi } from '../../../src/lib/monitoring/psi';
import type { ReferenceProfile } from '../../../src/lib/monitoring/reference';
import { rollupsOf, sumRollups } from '../../../src/lib/monitoring/rollups';
import { makeLogRow } from '../factories';

describe('population stability index', () => {
  it('matches values computed by hand', () => {
    // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
    expect(psi([50, 50], [25, 75])).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 10);
    expect(psi([50, 50], [25, 75])).toBeCloseTo(0.274653, 6);
    // Four bins: ref 10/20/30/40 %, live 40/30/20/10 %.
    expect(psi([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(0.3 * Math.log(4) + 0.1 * Math.log(1.5) + -0.1 * Math.log(2 / 3) + -0.3 * Math.log(1 / 4), 10);
    expect(psi([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(0.91287, 5);
    // An empty bin counts as 0.0001: (0.5 − 1)·ln(0.5) + (0.5 − 0.0001)·ln(0.5 / 0.0001)
    expect(psi([100, 0], [50, 50])).toBeCloseTo(-0.5 * Math.log(0.5) + 0.4999 * Math.log(5000), 10);
  });

  it('is zero for identical shares, symmetric, and scale-free', () => {
    expect(psi([3, 5, 2], [30, 50, 20])).toBeCloseTo(0, 12);
    expect(psi([1, 2, 7], [5, 3, 2])).toBeCloseTo(psi([5, 3, 2], [1, 2, 7]), 12);
    expect(categoricalPsi({ a: 1, b: 1 }, { b: 3, a: 1 })).toBeCloseTo(psi([1, 1], [1, 3]), 12);
  });

  it('refuses mismatched bins and empty sides with a clear message', () => {
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/same bins/);
    expect(() => psi([0, 0], [1, 2])).toThrow(/at least one count/);
  });

  it('reads as stable, moderate or significant at 0.1 and 0.25', () => {
    expect([0.05, 0.1, 0.2, 0.25, 1].map((v) => driftLevel(v))).toEqual(['stable', 'moderate', 'moderate', 'significant', 'significant']);
  });
});

describe('drift report', () => {
  const rows = (n: number, length: (i: number) => number, label: (i: number) => string) =>
    Array.from({ length: n }, (_, i) =>
      makeLogRow({ ts: 1_700_000_000_000 + i, output: { kind: 'classification', label: label(i) }, score: 0.5 + (i % 5) / 10, stats: { textLength: length(i) } }),
    );
  const reference: ReferenceProfile = {
    model: 'sentiment',
    version: 2,
    datasetId: 'ds',
    split: 'val',
    createdAt: 0,
    vocabulary: [],
    summary: sumRollups('sentiment', rollupsOf(rows(300, (i) => 20 + (i % 30), (i) => ['negative', 'neutral', 'positive'][i % 3]!))),
  };

  it('finds no drift in traffic like the reference, and says so', () => {
    const live = sumRollups('sentiment', rollupsOf(rows(90, (i) => 20 + ((i * 7) % 30), (i) => ['negative', 'neutral', 'positive'][(i + 1) % 3]!)));
    const report = driftReport(live, reference);
    expect(report.level).toBe('stable');
    expect(report.features.map((f) => f.key)).toEqual(['predictions', 'confidence', 'textLength']);
    expect(report.verdict).toMatch(/^No drift/);
  });

  it('names the drifted statistic when texts get much longer', () => {
    const live = sumRollups('sentiment', rollupsOf(rows(90, () => 900, (i) => ['negative', 'neutral', 'positive'][i % 3]!)));
    const report = driftReport(live, reference);
    expect(report.level).toBe('significant');
    const length = report.features.find((f) => f.key === 'textLength')!;
    expect(length.psi).toBeGreaterThan(5);
    expect(report.features.find((f) => f.key === 'predictions')!.level).toBe('stable');
    expect(report.verdict).toMatch(/Significant drift in text length \(PSI \d+\.\d\d\)/);
  });

  it('gives no verdict on too little traffic', () => {
    const live = sumRollups('sentiment', rollupsOf(rows(MIN_LIVE_FOR_DRIFT - 1, () => 900, () => 'neutral')));
    expect(driftReport(live, reference)).toMatchObject({ level: 'insufficient', features: [] });
  });
});
