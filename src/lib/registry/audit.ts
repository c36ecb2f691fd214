import type { AliasRow, GateDecisionRow, ModelVersionRow } from '$lib/db/types';
import { heldOutMetrics, metricDirection } from './gate';
import { PRODUCTION } from './registry';
import type { GateRule } from './types';

/** The audit trail as pretty JSON: every field of every entry, oldest first. */
export function auditToJson(rows: GateDecisionRow[]): string {
  return `${JSON.stringify({ format: 'loupe-registry-audit', version: 1, entries: rows }, null, 2)}\n`;
}

const BASE_COLUMNS = [
  'time',
  'model',
  'kind',
  'outcome',
  'trigger',
  'version',
  'production_before',
  'production_after',
  'eval_data_version',
  'evaluator',
  'alias',
  'rule',
  'reason',
] as const;

/**
 * The audit trail as CSV (RFC 4180, one row per entry): fixed columns, then `candidate.<metric>` and
 * `champion.<metric>` for every metric any entry measured.
 */
export function auditToCsv(rows: GateDecisionRow[]): string {
  const metrics = [...new Set(rows.flatMap((r) => [...Object.keys(r.candidateMetrics ?? {}), ...Object.keys(r.championMetrics ?? {})]))].sort();
  const header = [...BASE_COLUMNS, ...metrics.map((m) => `candidate.${m}`), ...metrics.map((m) => `champion.${m}`)];
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) {
    const cells: unknown[] = [
      new Date(r.ts).toISOString(),
      r.name,
      r.kind,
      r.outcome,
      r.trigger,
      r.version,
      r.productionBefore,
      r.productionAfter,
      r.evalDataVersion,
      r.evaluator,
      r.alias,
      r.rule ? JSON.stringify(r.rule) : undefined,
      r.reason,
      ...metrics.map((m) => r.candidateMetrics?.[m]),
      ...metrics.map((m) => r.championMetrics?.[m]),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * One CSV cell: quoted when needed, and text that a spreadsheet would run as a formula (`=`, `+`,
 * `-`, `@`, tab, CR at the start) is prefixed with `'` (OWASP "CSV injection"). Numbers stay numbers.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface BestMetrics {
  format: 'loupe-best-metrics';
  model: string;
  generatedAt: string;
  primaryMetric?: string;
  /** The version the production alias points to, with its metrics. */
  production?: { version: number; metrics: Record<string, number> };
  /** The best version by the primary metric (held-out metrics as recorded at registration). */
  best?: { version: number; status: string; metrics: Record<string, number>; datasetVersion?: string };
  /** Per metric whose direction is known: its best value and the version that has it. */
  perMetric: Record<string, { value: number; version: number; greaterIsBetter: boolean }>;
}

/**
 * A model's best metrics, for `best_metrics.json`: the production version's, the best version by the
 * primary metric, and per metric the best value any version reached (rejected versions included:
 * they are real measurements).
 */
export function bestMetrics(name: string, versions: ModelVersionRow[], aliases: AliasRow[], rule?: GateRule, now = Date.now()): BestMetrics {
  const rows = versions.filter((r) => r.name === name).sort((a, b) => a.version - b.version);
  const productionVersion = aliases.find((a) => a.name === name && a.alias === PRODUCTION)?.version;
  const production = rows.find((r) => r.version === productionVersion);
  const perMetric: BestMetrics['perMetric'] = {};
  for (const row of rows) {
    for (const [metric, value] of Object.entries(heldOutMetrics(row.metrics))) {
      const direction = metricDirection(metric, rule);
      if (!direction) continue;
      const greaterIsBetter = direction === 'higher';
      const seen = perMetric[metric];
      if (!seen || (greaterIsBetter ? value > seen.value : value < seen.value)) perMetric[metric] = { value, version: row.version, greaterIsBetter };
    }
  }
  const primary = rule?.primary;
  const bestRow = primary && perMetric[primary] ? rows.find((r) => r.version === perMetric[primary]!.version) : undefined;
  return {
    format: 'loupe-best-metrics',
    model: name,
    generatedAt: new Date(now).toISOString(),
    ...(primary ? { primaryMetric: primary } : {}),
    ...(production ? { production: { version: production.version, metrics: heldOutMetrics(production.metrics) } } : {}),
    ...(bestRow
      ? {
          best: {
            version: bestRow.version,
            status: bestRow.status,
            metrics: heldOutMetrics(bestRow.metrics),
            ...(bestRow.lineage?.datasetVersion !== undefined ? { datasetVersion: bestRow.lineage.datasetVersion } : {}),
          },
        }
      : {}),
    perMetric,
  };
}
