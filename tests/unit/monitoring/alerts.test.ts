import { describe, expect, it } from 'vitest';
import type { AlertRuleRow } from '../../../src/lib/db/types';
import { addAlertRule, AlertRuleError, deleteAlertRule, evaluateAlerts, setAlertRuleEnabled, stepAlert, validateRule } from '../../../src/lib/monitoring/alerts';
import { evaluateProduction, readSchedules, runDueEvaluations, saveSchedule } from '../../../src/lib/monitoring/evaluation';
import { saveReference } from '../../../src/lib/monitoring/reference';
import { rollupsOf, sumRollups } from '../../../src/lib/monitoring/rollups';
import { makeDb, makeLogRow } from '../factories';
import { traffic, writeThroughLogger } from './helpers';

const MIN = 60_000;
const T0 = 1_699_999_980_000;

function rule(overrides: Partial<AlertRuleRow> = {}): AlertRuleRow {
  return {
    id: 'slow', model: 'sentiment', name: 'SlowP95', metric: 'latency_p95', comparison: '>', threshold: 200, windowMinutes: 60, forMinutes: 5,
    severity: 'warning', action: 'notify', enabled: true, createdAt: 0, ...overrides,
  };
}

describe('alert rule steps (Prometheus semantics)', () => {
  it('goes pending when the condition starts holding, fires after `for`, resolves when it stops', () => {
    const r = rule();
    const pending = stepAlert(r, 250, undefined, T0)!;
    expect(pending).toMatchObject({ rule: 'slow', state: 'pending', since: T0, labels: { model: 'sentiment', metric: 'latency_p95' } });
    expect(stepAlert(r, 260, pending, T0 + 4 * MIN)).toBeUndefined(); // still pending
    const firing = stepAlert(r, 270, pending, T0 + 5 * MIN)!;
    expect(firing).toMatchObject({ id: pending.id, state: 'firing', since: T0, firedAt: T0 + 5 * MIN, value: 270 });
    expect(firing.summary).toBe('SlowP95 on sentiment: latency p95 is 270 ms (> 200) over the last 60 min');
    expect(stepAlert(r, 280, firing, T0 + 6 * MIN)).toBeUndefined(); // stays firing
    expect(stepAlert(r, 120, firing, T0 + 7 * MIN)).toMatchObject({ state: 'resolved', resolvedAt: T0 + 7 * MIN });
  });

  it('fires at once with `for` 0, ignores windows without data, and compares with each operator', () => {
    expect(stepAlert(rule({ forMinutes: 0 }), 201, undefined, T0)).toMatchObject({ state: 'firing', firedAt: T0 });
    expect(stepAlert(rule(), undefined, undefined, T0)).toBeUndefined();
    expect(stepAlert(rule({ comparison: '<', threshold: 0.7, metric: 'accuracy' }), 0.69, undefined, T0)).toMatchObject({ state: 'pending' });
    expect(stepAlert(rule({ comparison: '<', threshold: 0.7, metric: 'accuracy' }), 0.7, undefined, T0)).toBeUndefined();
    expect(stepAlert(rule({ comparison: '<=', threshold: 0.7 }), 0.7, undefined, T0)).toMatchObject({ state: 'pending' });
    expect(stepAlert(rule({ comparison: '>=', threshold: 0.7 }), 0.7, undefined, T0)).toMatchObject({ state: 'pending' });
  });

  it('refuses a malformed rule naming the field', () => {
    expect(() => validateRule(rule({ threshold: Number.NaN }))).toThrow(AlertRuleError);
    expect(() => validateRule(rule({ windowMinutes: 0 }))).toThrow(/window must be at least 1 minute, got 0/);
    expect(() => validateRule(rule({ metric: 'vibes' as AlertRuleRow['metric'] }))).toThrow(/metric must be one of accuracy/);
  });
});

describe('storing alert rules', () => {
  it('adds a valid rule and refuses a malformed one without storing it', async () => {
    const db = makeDb();
    await expect(addAlertRule(db, rule())).resolves.toMatchObject({ id: 'slow' });
    await expect(addAlertRule(db, rule({ id: 'bad', windowMinutes: 0 }))).rejects.toThrow(/window must be at least 1 minute/);
    expect(await db.alertRules.toArray()).toEqual([rule()]);
  });

  it('turns a rule off and on', async () => {
    const db = makeDb();
    await addAlertRule(db, rule());
    await setAlertRuleEnabled(db, 'slow', false);
    expect((await db.alertRules.get('slow'))?.enabled).toBe(false);
    await setAlertRuleEnabled(db, 'slow', true);
    expect((await db.alertRules.get('slow'))?.enabled).toBe(true);
  });

  it('deletes a rule and resolves its active alert, keeping its history and other rules\' alerts', async () => {
    const db = makeDb();
    await addAlertRule(db, rule());
    await addAlertRule(db, rule({ id: 'other', name: 'Other' }));
    await db.alerts.bulkPut([
      { id: 'a-old', rule: 'slow', state: 'resolved', since: T0 - 60 * MIN, resolvedAt: T0 - 30 * MIN },
      { id: 'a-now', rule: 'slow', state: 'firing', since: T0, firedAt: T0 },
      { id: 'b-now', rule: 'other', state: 'pending', since: T0 },
    ]);
    await deleteAlertRule(db, 'slow', T0 + 5 * MIN);
    expect((await db.alertRules.toArray()).map((r) => r.id)).toEqual(['other']);
    expect(await db.alerts.get('a-now')).toMatchObject({ state: 'resolved', resolvedAt: T0 + 5 * MIN });
    expect(await db.alerts.get('a-old')).toMatchObject({ state: 'resolved', resolvedAt: T0 - 30 * MIN });
    expect(await db.alerts.get('b-now')).toMatchObject({ state: 'pending' });
  });
});

describe('evaluateAlerts over stored rollups', () => {
  it('fires a p95 latency rule on slow traffic, records the alert for Pipelines, and resolves it when traffic is fast', async () => {
    const db = makeDb();
    await db.alertRules.put(rule({ forMinutes: 0, windowMinutes: 10, action: 'retrain' }));
    const slow = traffic(200, { start: T0, minutes: 5 }).map((r) => ({ ...r, latencyMs: 300 }));
    await writeThroughLogger(db, slow);
    const fired: string[] = [];
    const written = await evaluateAlerts(db, { now: T0 + 5 * MIN, onFiring: (alert) => fired.push(alert.summary!) });
    expect(written).toHaveLength(1);
    expect(await db.alerts.toArray()).toEqual([
      expect.objectContaining({ rule: 'slow', state: 'firing', firedAt: T0 + 5 * MIN, labels: expect.objectContaining({ model: 'sentiment', metric: 'latency_p95', action: 'retrain' }) }),
    ]);
    expect(fired).toEqual([expect.stringMatching(/latency p95 is [\d.]+ ms \(> 200\)/)]);
    // Nothing new while it keeps firing.
    await expect(evaluateAlerts(db, { now: T0 + 6 * MIN })).resolves.toEqual([]);
    // Twenty minutes later the window holds only fast traffic.
    await writeThroughLogger(db, traffic(100, { start: T0 + 20 * MIN, minutes: 5 }).map((r) => ({ ...r, latencyMs: 5 })));
    await evaluateAlerts(db, { now: T0 + 25 * MIN });
    expect((await db.alerts.toArray()).map((a) => a.state)).toEqual(['resolved']);
  });

  it('fires a drift rule when live texts are much longer than the reference\'s', async () => {
    const db = makeDb();
    const referenceRows = Array.from({ length: 200 }, (_, i) =>
      makeLogRow({ output: { kind: 'classification', label: ['negative', 'neutral', 'positive'][i % 3] }, score: 0.8, stats: { textLength: 15 + (i % 20) } }),
    );
    await saveReference(db, { model: 'sentiment', version: 1, datasetId: 'ds', split: 'val', createdAt: 0, vocabulary: [], summary: sumRollups('sentiment', rollupsOf(referenceRows)) });
    await db.aliases.put({ name: 'sentiment', alias: 'production', version: 1, updatedAt: 0 });
    await db.alertRules.put(rule({ id: 'drift', name: 'InputDrift', metric: 'psi_inputs', threshold: 0.2, windowMinutes: 15, forMinutes: 0 }));
    await writeThroughLogger(db, traffic(60, { start: T0, minutes: 3, textLength: ((i) => () => 15 + (i++ % 20))(0) }));
    await expect(evaluateAlerts(db, { now: T0 + 3 * MIN })).resolves.toEqual([]);
    await writeThroughLogger(db, traffic(200, { start: T0 + 3 * MIN, minutes: 3, textLength: () => 700 }));
    const [alert] = await evaluateAlerts(db, { now: T0 + 6 * MIN });
    expect(alert).toMatchObject({ rule: 'drift', state: 'firing', labels: { metric: 'psi_inputs' } });
    expect(alert!.value).toBeGreaterThan(0.2);
  });
});

describe('periodic evaluation', () => {
  it('records production\'s metrics as a time series on schedule, and failures with their reason', async () => {
    const db = makeDb();
    const evaluated: string[] = [];
    const evaluator = async (version: { name: string; version: number }, datasetId: string) => {
      evaluated.push(`${version.name}@${version.version} on ${datasetId}`);
      return { accuracy: 0.75 };
    };
    const failed = await evaluateProduction(db, 'sentiment', 'ds', evaluator, T0);
    expect(failed).toMatchObject({ error: 'sentiment has no production version to evaluate', metrics: {} });

    await db.modelVersions.add({ id: 's2', name: 'sentiment', version: 2, status: 'production', createdAt: 0, metrics: {} });
    await db.aliases.put({ name: 'sentiment', alias: 'production', version: 2, updatedAt: 0 });
    await saveSchedule(db, { model: 'sentiment', datasetId: 'ds', everyMinutes: 10, enabled: true });
    await expect(runDueEvaluations(db, evaluator, T0)).resolves.toHaveLength(1);
    await expect(runDueEvaluations(db, evaluator, T0 + 9 * MIN)).resolves.toHaveLength(0);
    await expect(runDueEvaluations(db, evaluator, T0 + 10 * MIN)).resolves.toHaveLength(1);
    expect(evaluated).toEqual(['sentiment@2 on ds', 'sentiment@2 on ds']);
    expect((await db.evalPoints.where('[model+ts]').between(['sentiment', 0], ['sentiment', Infinity]).toArray()).map((p) => [p.ts, p.metrics.accuracy ?? null])).toEqual([
      [T0, null],
      [T0, 0.75],
      [T0 + 10 * MIN, 0.75],
    ]);
    expect((await readSchedules(db))[0]!.lastRunAt).toBe(T0 + 10 * MIN);
    await expect(saveSchedule(db, { model: 'sentiment', datasetId: 'ds', everyMinutes: 0, enabled: true })).rejects.toThrow(/every must be at least 1 minute/);
  });

  it('feeds an "evaluation < threshold" rule', async () => {
    const db = makeDb();
    await db.evalPoints.add({ model: 'sentiment', ts: T0, version: 2, datasetId: 'ds', metrics: { accuracy: 0.62 } });
    await db.alertRules.put(rule({ id: 'acc', metric: 'evaluation', comparison: '<', threshold: 0.7, forMinutes: 0 }));
    const [alert] = await evaluateAlerts(db, { now: T0 + MIN });
    expect(alert).toMatchObject({ state: 'firing', value: 0.62 });
  });
});
