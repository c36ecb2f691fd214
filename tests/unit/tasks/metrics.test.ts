import { describe, expect, it } from 'vitest';
import { bootstrapCi, classificationMetrics, errorByDecade, regressionMetrics } from '../../../src/lib/tasks/metrics';

/** A small deterministic generator so intervals are reproducible in the test. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('regressionMetrics', () => {
  it('matches values computed by hand (scikit-learn definitions)', () => {
    const m = regressionMetrics([1900, 1950, 2000, 1850], [1910, 1940, 2005, 1880]);
    expect(m.mae).toBeCloseTo(13.75, 10); // (10+10+5+30)/4
    expect(m.rmse).toBeCloseTo(Math.sqrt((100 + 100 + 25 + 900) / 4), 10);
    expect(m.medianAe).toBe(10);
    // r2 = 1 − SSres/SStot; mean 1925 → SStot = 625+625+5625+5625 = 12500; SSres = 1125
    expect(m.r2).toBeCloseTo(1 - 1125 / 12500, 10);
  });

  it('handles a constant target like scikit-learn', () => {
    expect(regressionMetrics([5, 5], [5, 5]).r2).toBe(1);
    expect(regressionMetrics([5, 5], [4, 6]).r2).toBe(0);
  });

  it('rejects mismatched or empty inputs', () => {
    expect(() => regressionMetrics([1, 2], [1])).toThrow('as many predictions as labels (1 vs 2)');
    expect(() => regressionMetrics([], [])).toThrow('at least one example');
  });
});

describe('classificationMetrics', () => {
  it('computes accuracy, per-class precision/recall, macro-F1 and the confusion matrix', () => {
    const labels = ['minor', 'moderate', 'major'];
    const t = [0, 0, 1, 1, 2, 2];
    const p = [0, 1, 1, 1, 2, 0];
    const m = classificationMetrics(t, p, labels);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(m.perClass.map((c) => [c.label, c.precision, c.recall, c.support])).toEqual([
      ['minor', 0.5, 0.5, 2],
      ['moderate', 2 / 3, 1, 2],
      ['major', 1, 0.5, 2],
    ]);
    const f1 = [0.5, 0.8, 2 / 3];
    expect(m.macroF1).toBeCloseTo((f1[0]! + f1[1]! + f1[2]!) / 3, 12);
  });

  it('gives a 2-class macro-F1 equal to scikit-learn f1_score(average="macro") on a hand-checked confusion matrix', () => {
    // 10 reviews: 4 negative (3 right, 1 called positive), 6 positive (4 right, 2 called negative).
    const t = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    const p = [0, 0, 0, 1, 0, 0, 1, 1, 1, 1];
    const m = classificationMetrics(t, p, ['negative', 'positive']);
    expect(m.confusion).toEqual([
      [3, 1],
      [2, 4],
    ]);
    // F1 = 2·TP / (2·TP + FP + FN). negative: TP 3, FP 2 (positives called negative), FN 1 → 6/9 = 2/3.
    // positive: TP 4, FP 1, FN 2 → 8/11. Macro = (2/3 + 8/11) / 2 = (22/33 + 24/33) / 2 = 23/33 ≈ 0.69697,
    // what sklearn.metrics.f1_score([0,0,0,0,1,1,1,1,1,1], [0,0,0,1,0,0,1,1,1,1], average='macro') gives.
    expect(m.macroF1).toBeCloseTo(23 / 33, 12);
    expect(m.accuracy).toBeCloseTo(7 / 10, 12);
    expect(m.perClass.map((c) => [c.label, c.support])).toEqual([
      ['negative', 4],
      ['positive', 6],
    ]);
    expect(m.perClass[0]!.f1).toBeCloseTo(2 / 3, 12);
    expect(m.perClass[1]!.f1).toBeCloseTo(8 / 11, 12);
  });

  it('averages macro-F1 over the classes in the data or the predictions, as scikit-learn does', () => {
    // A 3-class model on data without neutral that never predicts neutral: neutral is not an F1 of 0.
    const m = classificationMetrics([0, 0, 2, 2], [0, 2, 2, 2], ['negative', 'neutral', 'positive']);
    expect(m.perClass[1]).toMatchObject({ label: 'neutral', support: 0, f1: 0 });
    expect(m.macroF1).toBeCloseTo((2 / 3 + 4 / 5) / 2, 12); // negative 2·1/(2+0+1), positive 2·2/(4+1+0)
    // Predicting a class the data lacks counts it, with F1 0 (sklearn: labels = y_true ∪ y_pred).
    expect(classificationMetrics([0, 0, 2, 2], [0, 1, 2, 2], ['negative', 'neutral', 'positive']).macroF1).toBeCloseTo((2 / 3 + 0 + 1) / 3, 12);
  });

  it('gives 0 for a class never predicted instead of NaN', () => {
    const m = classificationMetrics([0, 1], [0, 0], ['a', 'b']);
    expect(m.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });

  it('rejects label indices outside the label list', () => {
    expect(() => classificationMetrics([0, 3], [0, 0], ['a', 'b'])).toThrow('label index out of range at example 1');
  });
});

describe('bootstrapCi', () => {
  const mae = (t: number[], p: number[]) => regressionMetrics(t, p).mae;
  const t = Array.from({ length: 200 }, (_, i) => 1850 + i);
  const p = t.map((y, i) => y + ((i * 37) % 21) - 10);

  it('brackets the estimate and is reproducible by seed', () => {
    const a = bootstrapCi(t, p, mae, lcg(1), 300);
    const b = bootstrapCi(t, p, mae, lcg(1), 300);
    expect(a).toEqual(b);
    expect(a.low).toBeLessThanOrEqual(a.estimate);
    expect(a.high).toBeGreaterThanOrEqual(a.estimate);
    expect(a.high - a.low).toBeGreaterThan(0);
  });

  it('narrows as the sample grows', () => {
    const small = bootstrapCi(t.slice(0, 20), p.slice(0, 20), mae, lcg(2), 300);
    const large = bootstrapCi(t, p, mae, lcg(2), 300);
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
  });
});

describe('errorByDecade', () => {
  it('groups absolute errors by the true year’s decade', () => {
    expect(errorByDecade([1901, 1909, 1955], [1903, 1905, 1955])).toEqual([
      { decade: 1900, mae: 3, count: 2 },
      { decade: 1950, mae: 0, count: 1 },
    ]);
  });
});
