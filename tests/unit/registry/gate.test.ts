import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classSetConflict, decide, DEFAULT_GATE_RULES, heldOutMetrics, metricDirection, validateRule } from '../../../src/lib/registry/gate';
import type { GateRule } from '../../../src/lib/registry/types';
import { TASKS } from '../../../src/lib/tasks/registry';

const coin: GateRule = DEFAULT_GATE_RULES['coin-year']; // mae ≤ 50, −0.5 at least; rmse may regress by ≤ 2
const champion = { mae: 14, rmse: 16 };

describe('promotion gate truth table (coin-year: MAE, lower is better)', () => {
  const cases: [string, Record<string, number>, Record<string, number> | undefined, boolean, RegExp?][] = [
    ['better on every metric', { mae: 11, rmse: 15 }, champion, true],
    ['worse', { mae: 16, rmse: 15 }, champion, false, /mae 16 is not better than the champion's 14/],
    ['equal', { mae: 14, rmse: 16 }, champion, false, /not better/],
    ['better, but within minDelta', { mae: 13.7, rmse: 16 }, champion, false, /mae improves on the champion's 14 by only 0\.3, less than the minimum absolute change 0\.5/],
    ['better by exactly minDelta', { mae: 13.5, rmse: 16 }, champion, true],
    ['better, guard within its tolerance', { mae: 12, rmse: 17.9 }, champion, true],
    ['better, guard regresses past its tolerance', { mae: 12, rmse: 18.5 }, champion, false, /rmse regresses from the champion's 16 to 18\.5, past its tolerance 2/],
    ['no champion, passes the absolute threshold', { mae: 40, rmse: 60 }, undefined, true],
    ['no champion, fails the absolute threshold', { mae: 60, rmse: 60 }, undefined, false, /mae 60 misses the threshold \(at most 50\)/],
    ['better but above the absolute threshold', { mae: 55, rmse: 60 }, { mae: 70, rmse: 70 }, false, /misses the threshold/],
    ['candidate lacks a metric', { mae: 11 }, champion, false, /rmse is missing from the candidate/],
    ['champion lacks a metric', { mae: 11, rmse: 15 }, { mae: 14 }, false, /rmse is missing from the champion/],
    ['candidate metric is NaN', { mae: Number.NaN, rmse: 15 }, champion, false, /mae is missing from the candidate/],
  ];
  it.each(cases)('%s', (_, candidate, baseline, passed, reason) => {
    const verdict = decide(coin, candidate, baseline);
    expect(verdict.passed).toBe(passed);
    expect(verdict.checks.map((c) => c.metric)).toEqual(['mae', 'rmse']);
    expect(verdict.checks[0]!.role).toBe('primary');
    expect(verdict.reason).toMatch(passed ? /^Promoted/ : /^Rejected/);
    if (reason) expect(verdict.reason).toMatch(reason);
  });

  it('says "not better" once for a worse primary, without restating its change criteria', () => {
    const verdict = decide(coin, { mae: 16, rmse: 16 }, champion);
    expect(verdict.checks[0]!.failures).toEqual(["mae 16 is not better than the champion's 14"]);
  });

  it('explains a guard that must improve but does not', () => {
    const rule: GateRule = { primary: 'mae', metrics: { mae: { greaterIsBetter: false, threshold: 50 }, rmse: { greaterIsBetter: false, minAbsoluteChange: 1 } } };
    expect(decide(rule, { mae: 10, rmse: 17 }, champion).reason).toMatch(/rmse 17 does not improve on the champion's 16 by the minimum absolute change 1/);
  });

  it('reports both metric values in each check', () => {
    const verdict = decide(coin, { mae: 11, rmse: 15 }, champion);
    expect(verdict.checks[1]).toMatchObject({ metric: 'rmse', role: 'guard', candidate: 15, champion: 16, passed: true, failures: [] });
  });
});

describe('promotion gate, higher is better (accuracy) and MLflow criteria', () => {
  const acc = (t: Partial<GateRule['metrics'][string]>): GateRule => ({ primary: 'accuracy', metrics: { accuracy: { greaterIsBetter: true, threshold: 0.5, ...t } } });

  it('treats 0.75 + 0.05 as reaching 0.8, as MLflow does with Decimal', () => {
    expect(decide(acc({ minAbsoluteChange: 0.05 }), { accuracy: 0.8 }, { accuracy: 0.75 }).passed).toBe(true);
    expect(decide(acc({ minAbsoluteChange: 0.05 }), { accuracy: 0.79 }, { accuracy: 0.75 }).passed).toBe(false);
  });

  it('applies min_relative_change as a fraction of the champion', () => {
    const rule = acc({ minRelativeChange: 0.1 });
    expect(decide(rule, { accuracy: 0.77 }, { accuracy: 0.7 }).passed).toBe(true); // +10%
    const short = decide(rule, { accuracy: 0.76 }, { accuracy: 0.7 });
    expect(short.passed).toBe(false);
    expect(short.reason).toMatch(/by only 8\.571%, less than the minimum relative change 10%/);
  });

  it('mirrors min_relative_change for lower-is-better metrics', () => {
    const rule: GateRule = { primary: 'mae', metrics: { mae: { greaterIsBetter: false, threshold: 100, minRelativeChange: 0.1 } } };
    expect(decide(rule, { mae: 9 }, { mae: 10 }).passed).toBe(true);
    expect(decide(rule, { mae: 9.5 }, { mae: 10 }).passed).toBe(false);
  });

  it('falls back to "strictly better" when the champion scored 0 (MLflow)', () => {
    const rule: GateRule = { primary: 'loss', metrics: { loss: { greaterIsBetter: true, threshold: -10, minRelativeChange: 0.5 } } };
    expect(decide(rule, { loss: 0.001 }, { loss: 0 }).passed).toBe(true);
    expect(decide(rule, { loss: 0 }, { loss: 0 }).passed).toBe(false);
  });

  it('keeps relative change meaningful for negative champions (R²)', () => {
    const rule: GateRule = { primary: 'r2', metrics: { r2: { greaterIsBetter: true, threshold: -5, minRelativeChange: 0.5 } } };
    expect(decide(rule, { r2: -0.4 }, { r2: -1 }).passed).toBe(true); // +0.6 on |−1|
    expect(decide(rule, { r2: -1.4 }, { r2: -1 }).passed).toBe(false);
  });

  it('is the exact mirror image for lower-is-better metrics (property)', () => {
    const value = fc.double({ min: -1000, max: 1000, noNaN: true });
    const optionalNonNegative = fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: undefined });
    fc.assert(
      fc.property(value, value, value, optionalNonNegative, fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), optionalNonNegative, fc.boolean(), (c, b, threshold, minAbs, minRel, tolerance, asGuard) => {
        const higher: GateRule = { primary: 'p', metrics: { p: { greaterIsBetter: true, threshold: 1e9 * -1 }, m: { greaterIsBetter: true, threshold, minAbsoluteChange: minAbs, minRelativeChange: minRel, tolerance } } };
        const lower: GateRule = { primary: 'p', metrics: { p: { greaterIsBetter: true, threshold: 1e9 * -1 }, m: { greaterIsBetter: false, threshold: -threshold, minAbsoluteChange: minAbs, minRelativeChange: minRel, tolerance } } };
        if (!asGuard) {
          higher.primary = lower.primary = 'm';
          delete higher.metrics.p;
          delete lower.metrics.p;
          delete higher.metrics.m!.tolerance;
          delete lower.metrics.m!.tolerance;
        }
        const up = decide(higher, { p: 1, m: c }, { p: 0, m: b });
        const down = decide(lower, { p: 1, m: -c }, { p: 0, m: -b });
        expect(down.passed).toBe(up.passed);
        expect(down.checks.map((x) => x.failures.length)).toEqual(up.checks.map((x) => x.failures.length));
      }),
      { numRuns: 500 },
    );
  });
});

describe('gate rules', () => {
  it('accepts the defaults of every task', () => {
    for (const rule of Object.values(DEFAULT_GATE_RULES)) expect(validateRule(rule)).toEqual(rule);
  });

  it('keeps the defaults in step with the task plug-ins (primary metric, direction, guards)', () => {
    for (const [task, definition] of Object.entries(TASKS)) {
      const rule = DEFAULT_GATE_RULES[task as keyof typeof TASKS];
      expect(rule.primary).toBe(definition.primaryMetric);
      expect(rule.metrics[rule.primary]!.greaterIsBetter).toBe(definition.greaterIsBetter);
      expect(Object.keys(rule.metrics).filter((m) => m !== rule.primary).sort()).toEqual([...definition.guardMetrics].sort());
    }
  });

  it.each([
    [{ primary: 'mae', metrics: { mae: { greaterIsBetter: false } } }, /metrics\.mae\.threshold: the primary metric needs an absolute threshold/],
    [{ primary: 'mae', metrics: {} }, /metrics\.mae: the primary metric needs its thresholds/],
    [{ primary: 'mae', metrics: { mae: { greaterIsBetter: false, threshold: 5, tolerance: 1 } } }, /tolerances are for guard metrics/],
    [{ primary: 'acc', metrics: { acc: { greaterIsBetter: true, threshold: 0.5, minRelativeChange: 2 } } }, /metrics\.acc\.minRelativeChange: must be ≤ 1/],
    [{ primary: 'acc', metrics: { acc: { greaterIsBetter: true, threshold: 0.5, minAbsoluteChange: -1 } } }, /metrics\.acc\.minAbsoluteChange: must be ≥ 0/],
    [{ primary: 'acc', metrics: { acc: { greaterIsBetter: 'yes', threshold: 0.5 } } }, /metrics\.acc\.greaterIsBetter/],
    [{ primary: 'acc', metrics: { acc: { greaterIsBetter: true, threshold: 0.5, minDelta: 1 } } }, /metrics\.acc\.minDelta/],
  ])('refuses an invalid rule %#, naming the field', (rule, message) => {
    expect(() => validateRule(rule)).toThrow(message);
  });
});

describe('metric helpers', () => {
  it('takes held-out (val_) metrics without the prefix, and plain metrics when there are none', () => {
    expect(heldOutMetrics({ val_mae: 12, mae: 3, val_rmse: 15, loss: 0.1 })).toEqual({ mae: 12, rmse: 15 });
    expect(heldOutMetrics({ accuracy: 0.9, macroF1: 0.8 })).toEqual({ accuracy: 0.9, macroF1: 0.8 });
    expect(heldOutMetrics(undefined)).toEqual({});
  });

  it('knows which way the usual metrics go', () => {
    expect(metricDirection('val_mae')).toBe('lower');
    expect(metricDirection('rmse')).toBe('lower');
    expect(metricDirection('medianAe')).toBe('lower');
    expect(metricDirection('accuracy')).toBe('higher');
    expect(metricDirection('macroF1')).toBe('higher');
    expect(metricDirection('r2')).toBe('higher');
    expect(metricDirection('epochs')).toBeUndefined();
  });
});

describe('class sets', () => {
  const three = ['negative', 'neutral', 'positive'];
  it('refuses models that predict different classes, naming both lists', () => {
    expect(classSetConflict({ name: 'the candidate', labels: ['negative', 'positive'] }, { name: 'production', labels: three })).toBe(
      'the candidate predicts negative, positive but production predicts negative, neutral, positive; the gate compares only models with the same classes (accuracy and macro-F1 over different classes are not comparable)',
    );
    expect(classSetConflict({ name: 'a', labels: ['bag', 'shoe'] }, { name: 'b', labels: ['bag', 'coat'] })).toMatch(/a predicts bag, shoe but b predicts bag, coat/);
  });

  it('compares the same classes in any order, and models that do not name theirs', () => {
    expect(classSetConflict({ name: 'a', labels: ['positive', 'negative', 'neutral'] }, { name: 'b', labels: three })).toBeUndefined();
    expect(classSetConflict({ name: 'a' }, { name: 'b', labels: three })).toBeUndefined();
    expect(classSetConflict({ name: 'a', labels: three }, { name: 'b' })).toBeUndefined();
  });
});
