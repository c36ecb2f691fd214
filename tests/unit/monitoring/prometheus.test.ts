import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { formatExposition, prometheusText } from '../../../src/lib/monitoring/prometheus';
import { createRestHandler } from '../../../src/lib/serving/rest';
import { DEFAULT_SERVING_LIMITS } from '../../../src/lib/serving/types';
import { makeDb } from '../factories';
import { allRows, traffic, writeThroughLogger } from './helpers';

describe('Prometheus exposition', () => {
  it('parses with a real parser: counters, histograms with cumulative buckets, gauges, escaped labels', async () => {
    const db = makeDb();
    await writeThroughLogger(db, [...traffic(300, { seed: 2 }), ...traffic(50, { seed: 5, model: 'odd "name"\\x' })]);
    await db.aliases.put({ name: 'sentiment', alias: 'production', version: 2, updatedAt: 1 });
    await db.alertRules.put({
      id: 'r1', model: 'sentiment', name: 'SlowP95', metric: 'latency_p95', comparison: '>', threshold: 200, windowMinutes: 60, forMinutes: 0,
      severity: 'warning', action: 'notify', enabled: true, createdAt: 1,
    });
    await db.alerts.put({ id: 'r1:1', rule: 'r1', state: 'firing', since: 1, firedAt: 1, labels: { model: 'sentiment', alertname: 'SlowP95', severity: 'warning' } });
    await db.evalPoints.add({ model: 'sentiment', ts: 5, version: 2, datasetId: 'ds', metrics: { accuracy: 0.8, macro_f1: 0.7 } });
    const text = await prometheusText(db, 1_700_000_000_000 + 3_600_000);

    const families = parsePrometheusTextFormat(text);
    const family = (name: string) => families.find((f) => f.name === name)!;
    expect(family('loupe_predictions_total').type).toBe('COUNTER');
    const rows = await allRows(db);
    const perVersion = family('loupe_predictions_total').metrics.filter((m) => m.labels!.model === 'sentiment');
    expect(Object.fromEntries(perVersion.map((m) => [m.labels!.version, Number(m.value)]))).toEqual({
      1: rows.filter((r) => r.model === 'sentiment' && r.version === 1).length,
      2: rows.filter((r) => r.model === 'sentiment' && r.version === 2).length,
    });
    // The label with a quote and a backslash comes back as written.
    expect(family('loupe_predictions_total').metrics.some((m) => m.labels!.model === 'odd "name"\\x')).toBe(true);

    // This parser (like prom2json) folds a histogram's label sets into one and drops labelled _sum and
    // _count, so per-model figures are read from the sample lines; the parser still proves the syntax.
    expect(family('loupe_prediction_latency_seconds').type).toBe('HISTOGRAM');
    const sample = (suffix: string, labels: string) => Number(new RegExp(`^loupe_prediction_latency_seconds_${suffix}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const sentimentRows = rows.filter((r) => r.model === 'sentiment');
    expect(sample('count', 'model="sentiment"')).toBe(sentimentRows.length);
    expect(sample('sum', 'model="sentiment"')).toBeCloseTo(sentimentRows.reduce((s, r) => s + r.latencyMs, 0) / 1000, 6);
    for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']) {
      const bound = le === '+Inf' ? Infinity : Number(le);
      expect(sample('bucket', `model="sentiment",le="${le.replace('+', '\\+')}"`)).toBe(sentimentRows.filter((r) => r.latencyMs / 1000 <= bound).length);
    }

    expect(family('loupe_prediction_confidence').type).toBe('HISTOGRAM');
    expect(family('loupe_production_version').metrics).toEqual([{ value: '2', labels: { model: 'sentiment' } }]);
    expect(family('loupe_alerts_firing').metrics).toEqual([{ value: '1', labels: { model: 'sentiment', alertname: 'SlowP95', severity: 'warning' } }]);
    expect(family('loupe_evaluation_metric').metrics.map((m) => [m.labels!.metric, m.value])).toEqual([['accuracy', '0.8'], ['macro_f1', '0.7']]);
    // Every family says what it is, once, before its samples.
    expect(text.match(/^# TYPE /gm)!.length).toBe(families.length);
    expect(families.every((f) => f.help.length > 0)).toBe(true);
  });

  it('is an empty but valid exposition with no traffic', () => {
    const text = formatExposition({ totals: [], production: {}, drift: [], evaluations: [], firing: [] });
    expect(parsePrometheusTextFormat(text)).toEqual([]);
  });

  it('is served at GET /api/metrics with the text format\'s content type', async () => {
    const db = makeDb();
    await writeThroughLogger(db, traffic(20));
    const handler = createRestHandler({
      sdk: { modelTask: async () => 'text-classification', productionVersion: async () => 1, predictInputs: async () => { throw new Error('unused'); }, listModels: async () => [], loaded: () => [] },
      limits: async () => DEFAULT_SERVING_LIMITS,
      metrics: () => prometheusText(db),
    });
    const response = await handler(new Request('http://studio.test/app/api/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusTextFormat(await response.text());
    expect(families.find((f) => f.name === 'loupe_predictions_total')!.metrics.reduce((s, m) => s + Number(m.value), 0)).toBe(20);
    // One model: the parser's folded histogram is that model's, cumulative up to +Inf = every prediction.
    const buckets = Object.entries(families.find((f) => f.name === 'loupe_prediction_latency_seconds')!.metrics[0]!.buckets!)
      .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)] as const)
      .sort((a, b) => a[0] - b[0]);
    expect(buckets.at(-1)).toEqual([Infinity, 20]);
    expect(buckets.every(([, n], i) => i === 0 || n >= buckets[i - 1]![1])).toBe(true);
    expect((await handler(new Request('http://studio.test/app/api/metrics', { method: 'POST' }))).status).toBe(405);
  });
});
