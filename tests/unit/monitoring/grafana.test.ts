import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatGateFigures, formatTrainFigures } from '../../../src/lib/monitoring/job-figures';
import { formatExposition } from '../../../src/lib/monitoring/prometheus';
import { emptyRollup } from '../../../src/lib/monitoring/rollups';
import { formatInferenceMemory } from '../../../src/lib/serving/runtime-metrics';

/** Every series Loupe emits (studio's api/metrics and push, the CLI's push), with its label names. */
function emittedSeries(): Map<string, Set<string>> {
  const total = { ...emptyRollup('sentiment', 0), task: 'text-classification' as const, count: 3, errors: 1, versions: { 1: 3 }, outputs: { positive: 3 } };
  total.score.count = 3;
  const text = [
    formatExposition({
      totals: [total],
      production: { sentiment: 1 },
      drift: [{ model: 'sentiment', feature: 'prediction', psi: 0.1 }],
      evaluations: [{ model: 'sentiment', metric: 'accuracy', value: 0.9 }],
      firing: [{ model: 'sentiment', alertname: 'Slow', severity: 'warning' }],
    }),
    formatInferenceMemory({ numTensors: 1, numBytes: 4, models: 1 }),
    formatTrainFigures({ model: 'sentiment', version: 1, task: 'text-classification', datasetVersion: 'd', epochs: 1, splits: { val: { accuracy: 0.9 } }, finishedAt: 0 }),
    formatGateFigures({ model: 'sentiment', passed: true, split: 'test', candidate: { accuracy: 0.9 }, decidedAt: 0 }),
  ].join('');
  const series = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!match) continue;
    const labels = series.get(match[1]!) ?? new Set(['job', 'instance']); // the gateway's grouping labels, kept by honor_labels
    for (const [, name] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(name!);
    series.set(match[1]!, labels);
  }
  return series;
}

const FUNCTIONS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'increase', 'irate', 'histogram_quantile', 'label_values', 'abs', 'clamp_min', 'topk']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless']);

/** What a PromQL expression is wrong about: series Loupe does not emit, labels its series lack, unknown functions. */
function problems(expr: string, series: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const names: string[] = [];
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, ' ');
  // Grafana's label_values(series, label): the second argument is a label.
  rest = rest.replace(/label_values\(([^,]+),\s*(\w+)\s*\)/g, (_, name: string, label: string) => (labels.push(label), `label_values(${name})`));
  rest = rest.replace(/\{([^}]*)\}/g, (_, inner: string) => {
    for (const [, label] of inner.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.push(label!);
    return ' ';
  });
  rest = rest.replace(/\b(?:by|without)\s*\(([^)]*)\)/g, (_, list: string) => {
    labels.push(...list.split(',').map((l) => l.trim()).filter(Boolean));
    return ' ';
  });
  for (const match of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (call) {
      if (!FUNCTIONS.has(word!)) found.push(`unknown function ${word}`);
    } else if (!KEYWORDS.has(word!) && !/^\d/.test(word!)) names.push(word!);
  }
  for (const name of names) if (!series.has(name)) found.push(`${name} is not a series Loupe emits`);
  for (const label of labels) if (names.length > 0 && !names.some((n) => series.get(n)?.has(label))) found.push(`no series of "${expr}" has the label ${label}`);
  if (names.length === 0) found.push(`"${expr}" names no series`);
  return found;
}

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { query?: string | { query: string } }[] };
}

describe('docs/grafana/loupe.json', () => {
  const dashboard = JSON.parse(readFileSync('docs/grafana/loupe.json', 'utf8')) as Dashboard;
  const series = emittedSeries();

  it('draws what the Monitor page draws', () => {
    const titles = dashboard.panels.map((p) => p.title).join(' | ');
    for (const wanted of [/Predictions by version/, /Latency p50 \/ p95 \/ p99/, /Error rate/, /confidence/i, /Drift/, /Accuracy over time/]) expect(titles).toMatch(wanted);
  });

  it('queries only series and labels Loupe really emits', () => {
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.flatMap((v) => (typeof v.query === 'object' ? [v.query.query] : [])),
    ];
    expect(exprs.length).toBeGreaterThan(10);
    expect(Object.fromEntries(exprs.map((e) => [e, problems(e, series)]).filter(([, p]) => p!.length > 0))).toEqual({});
  });

  it('the check itself catches a misspelt series, a missing label and an unknown function', () => {
    expect(problems('sum(rate(loupe_prediction_total[5m]))', series)).toEqual(['loupe_prediction_total is not a series Loupe emits']);
    expect(problems('sum by (feature) (loupe_predictions_total)', series)).toEqual(['no series of "sum by (feature) (loupe_predictions_total)" has the label feature']);
    expect(problems('quantile_over_time(0.9, loupe_drift_psi[1h])', series)).toEqual(['unknown function quantile_over_time']);
  });
});
