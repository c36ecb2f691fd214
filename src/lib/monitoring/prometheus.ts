import type { LoupeDb } from '$lib/db/db';
import type { RollupRow } from '$lib/db/types';
import { binIndex, LATENCY_EDGES_MS, PROMETHEUS_LATENCY_BUCKETS_S, SCORE_EDGES } from './bins';
import { driftReport } from './drift';
import { isRegression } from './metrics';
import { loadReference } from './reference';
import { emptyRollup, hourKey, mergeInto, MINUTE_MS, monitoredModels, readRollups, sumRollups } from './rollups';

/** The content type of Prometheus's text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelText(labels: Record<string, string | number>): string {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}` : '';
}

/** Go's and the client libraries' float rendering: integers plain, `+Inf`, `NaN`. */
function num(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Writes metric families in the text format; each family's HELP and TYPE come once, before its samples. */
export class Exposition {
  #lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: [suffix: string, labels: Record<string, string | number>, value: number][]): void {
    if (samples.length === 0) return;
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [suffix, labels, value] of samples) this.#lines.push(`${name}${suffix}${labelText(labels)} ${num(value)}`);
  }

  toString(): string {
    return this.#lines.join('\n') + '\n';
  }
}

/** Cumulative counts at each of Prometheus's default latency buckets (their edges are ours too). */
export function latencyBuckets(bins: readonly number[]): { le: number; count: number }[] {
  return PROMETHEUS_LATENCY_BUCKETS_S.map((seconds) => {
    const last = binIndex(LATENCY_EDGES_MS, seconds * 1000);
    let count = 0;
    for (let i = 0; i <= last; i++) count += bins[i] ?? 0;
    return { le: seconds, count };
  });
}

export interface ExpositionInput {
  /** Every model's rollups summed over all time, and per version counts inside. */
  totals: RollupRow[];
  production: Record<string, number>;
  drift: { model: string; feature: string; psi: number }[];
  evaluations: { model: string; metric: string; value: number }[];
  firing: { model: string; alertname: string; severity: string }[];
}

/**
 * The exposition text of Loupe's monitoring figures, as a Prometheus client library writes it:
 * counters (`_total`), histograms (cumulative `_bucket{le}`, `_sum`, `_count`, base unit seconds) and
 * gauges, labelled by `model` (and `version` where the figure is per version).
 */
export function formatExposition(input: ExpositionInput): string {
  const out = new Exposition();
  const totals = [...input.totals].sort((a, b) => a.model.localeCompare(b.model));
  out.family(
    'loupe_predictions_total',
    'counter',
    'Predictions served and logged, per model and version.',
    totals.flatMap((t) => Object.entries(t.versions).map(([version, n]): [string, Record<string, string>, number] => ['', { model: t.model, version }, n])),
  );
  out.family('loupe_prediction_errors_total', 'counter', 'Prediction requests that failed after reaching the model.', totals.map((t) => ['', { model: t.model }, t.errors]));
  out.family(
    'loupe_prediction_latency_seconds',
    'histogram',
    'Latency of the request that carried each prediction.',
    totals.flatMap((t) => [
      ...latencyBuckets(t.latency.bins).map(({ le, count }): [string, Record<string, string>, number] => ['_bucket', { model: t.model, le: String(le) }, count]),
      ['_bucket', { model: t.model, le: '+Inf' }, t.count],
      ['_sum', { model: t.model }, t.latency.sum / 1000],
      ['_count', { model: t.model }, t.count],
    ]),
  );
  out.family(
    'loupe_prediction_confidence',
    'histogram',
    'Confidence (top class probability) of classifier predictions.',
    totals
      .filter((t) => t.score.count > 0)
      .flatMap((t) => {
        let cumulative = 0;
        return [
          ...SCORE_EDGES.map((le, i): [string, Record<string, string>, number] => ['_bucket', { model: t.model, le: String(le) }, (cumulative += t.score.bins[i] ?? 0)]),
          ['_bucket', { model: t.model, le: '+Inf' }, t.score.count],
          ['_sum', { model: t.model }, t.score.sum],
          ['_count', { model: t.model }, t.score.count],
        ];
      }),
  );
  out.family(
    'loupe_predictions_by_output_total',
    'counter',
    'Predictions per class label, or per decade of a regression value.',
    totals.flatMap((t) => Object.entries(t.outputs).map(([output, n]): [string, Record<string, string>, number] => ['', { model: t.model, output }, n])),
  );
  out.family('loupe_feedback_total', 'counter', 'Predictions that received a feedback label.', totals.map((t) => ['', { model: t.model }, t.feedback.count]));
  out.family(
    'loupe_feedback_correct_total',
    'counter',
    'Feedback-labelled classifier predictions that were right.',
    totals.filter((t) => !isRegression(t.task)).map((t) => ['', { model: t.model }, t.feedback.correct]),
  );
  out.family(
    'loupe_production_version',
    'gauge',
    'The version the production alias points to.',
    Object.entries(input.production).map(([model, version]) => ['', { model }, version]),
  );
  out.family('loupe_drift_psi', 'gauge', 'Population stability index of the last hour against the production version\'s reference.', input.drift.map((d) => ['', { model: d.model, feature: d.feature }, d.psi]));
  out.family('loupe_evaluation_metric', 'gauge', 'Latest periodic evaluation of the production version.', input.evaluations.map((e) => ['', { model: e.model, metric: e.metric }, e.value]));
  out.family(
    'loupe_alerts_firing',
    'gauge',
    'Alerts firing now (1 per alert).',
    input.firing.map((f) => ['', { model: f.model, alertname: f.alertname, severity: f.severity }, 1]),
  );
  return out.toString();
}

/**
 * Gathers the exposition's figures from the database (all-time totals from rollups, drift of the last
 * hour, latest evaluations, firing alerts) and formats them.
 * @example const text = await prometheusText(getDb()); // served at GET /api/metrics
 */
export async function prometheusText(db: LoupeDb, now = Date.now()): Promise<string> {
  // All-time totals from the hourly rollups: 24 rows a day instead of 1,440.
  const totals = new Map<string, RollupRow>();
  const models = await monitoredModels(db);
  for (const model of models) {
    const total = emptyRollup(model, 0);
    await db.rollups.where('model').equals(hourKey(model)).each((rollup) => void mergeInto(total, rollup));
    totals.set(model, total);
  }
  const production: Record<string, number> = {};
  for (const alias of await db.aliases.toArray()) if (alias.alias === 'production') production[alias.name] = alias.version;
  const drift: ExpositionInput['drift'] = [];
  const evaluations: ExpositionInput['evaluations'] = [];
  for (const model of totals.keys()) {
    const version = production[model];
    const reference = version === undefined ? undefined : await loadReference(db, model, version);
    if (reference) {
      const report = driftReport(sumRollups(model, await readRollups(db, model, now - 60 * MINUTE_MS, now)), reference);
      for (const feature of report.features) drift.push({ model, feature: feature.key, psi: feature.psi });
    }
    const point = await db.evalPoints.where('[model+ts]').between([model, -Infinity], [model, Infinity]).filter((p) => !p.error).last();
    if (point) for (const [metric, value] of Object.entries(point.metrics)) evaluations.push({ model, metric, value });
  }
  const rules = new Map((await db.alertRules.toArray()).map((r) => [r.id, r]));
  const firing = (await db.alerts.where('state').equals('firing').toArray()).map((a) => ({
    model: a.labels?.model ?? rules.get(a.rule)?.model ?? '',
    alertname: a.labels?.alertname ?? rules.get(a.rule)?.name ?? a.rule,
    severity: a.labels?.severity ?? rules.get(a.rule)?.severity ?? 'warning',
  }));
  return formatExposition({ totals: [...totals.values()], production, drift, evaluations, firing });
}
