import { describe, expect, it } from 'vitest';
import { TEXT_CLASSIFICATION } from '../../../src/lib/tasks/text-classification';
import { TASKS } from '../../../src/lib/tasks/registry';
import type { Prediction } from '../../../src/lib/tasks/types';
import { analyzeErrors, MAX_POINTS } from '../../../src/lib/training/analysis';

const cls = (index: number): Prediction => ({ kind: 'classification', index, label: String(index), score: 1, probabilities: [] });

describe('analyzeErrors', () => {
  it('gives classification intervals around the estimate, the confusion matrix and per-class figures', () => {
    const targets = Array.from({ length: 90 }, (_, i) => i % 3);
    const predictions = targets.map((t, i) => cls(i % 10 === 0 ? (t + 1) % 3 : t));
    const a = analyzeErrors(TEXT_CLASSIFICATION, targets, predictions, 1);
    if (a.kind !== 'classification') throw new Error('expected classification');
    expect(a.accuracy.estimate).toBeCloseTo(81 / 90, 10);
    expect(a.accuracy.low).toBeLessThan(a.accuracy.estimate);
    expect(a.accuracy.high).toBeGreaterThanOrEqual(a.accuracy.estimate);
    expect(a.confusion.flat().reduce((x, y) => x + y, 0)).toBe(90);
    expect(a.perClass.map((c) => c.label)).toEqual(['negative', 'neutral', 'positive']);
    expect(analyzeErrors(TEXT_CLASSIFICATION, targets, predictions, 1)).toEqual(a); // same seed, same intervals
  });

  it('gives regression intervals, a residual histogram, errors by decade, and caps the scatter points', () => {
    const years = Array.from({ length: 5000 }, (_, i) => 1850 + (i % 170));
    const predictions: Prediction[] = years.map((y, i) => ({ kind: 'regression', value: y + ((i % 7) - 3) }));
    const a = analyzeErrors(TASKS['coin-year'], years, predictions, 2);
    if (a.kind !== 'regression') throw new Error('expected regression');
    expect(a.metrics.mae.estimate).toBeCloseTo(12 / 7, 2);
    expect(a.points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(a.points[1]).toEqual([years[3], (predictions[3] as { value: number }).value]);
    expect(a.residualHistogram.reduce((n, b) => n + b.count, 0)).toBe(5000);
    expect(a.byDecade[0]).toMatchObject({ decade: 1850 });
  });
});
