import * as v from 'valibot';
import type { TaskName } from '$lib/db/types';
import { formatNumber } from '$lib/format';
import { TASK_NAMES, TASKS } from '$lib/tasks/registry';
import { InvalidRegistryInput } from './errors';
import type { GateRule, GateVerdict, MetricCheck, MetricThreshold } from './types';

/**
 * A task's default rule, from its definition: the primary metric must clear the task's bar and improve
 * by its minimum change; guard metrics may regress by at most its tolerance. Thresholds are deliberately
 * lenient bars for a first version; users tune them per model on the Registry page.
 * @example defaultRule('coin-year') // mae ≤ 50, better by ≥ 0.5; rmse may regress by ≤ 2
 */
export function defaultRule(task: TaskName): GateRule {
  const { primaryMetric, greaterIsBetter, guardMetrics, gate } = TASKS[task];
  const guards = guardMetrics.map((name) => [name, { greaterIsBetter, tolerance: gate.guardTolerance }] as const);
  return {
    primary: primaryMetric,
    metrics: { [primaryMetric]: { greaterIsBetter, threshold: gate.threshold, minAbsoluteChange: gate.minAbsoluteChange }, ...Object.fromEntries(guards) },
  };
}

/** Every task's default rule. */
export const DEFAULT_GATE_RULES: Record<TaskName, GateRule> = Object.fromEntries(TASK_NAMES.map((task) => [task, defaultRule(task)])) as Record<TaskName, GateRule>;

const finite = v.pipe(v.number(), v.finite());
const MetricThresholdSchema = v.strictObject({
  greaterIsBetter: v.boolean(),
  threshold: v.optional(finite),
  minAbsoluteChange: v.optional(v.pipe(finite, v.minValue(0, 'must be ≥ 0'))),
  minRelativeChange: v.optional(v.pipe(finite, v.minValue(0, 'must be ≥ 0'), v.maxValue(1, 'must be ≤ 1 (a fraction of the champion)'))),
  tolerance: v.optional(v.pipe(finite, v.minValue(0, 'must be ≥ 0'))),
});
const GateRuleSchema = v.strictObject({
  primary: v.pipe(v.string(), v.nonEmpty('name the primary metric')),
  metrics: v.record(v.pipe(v.string(), v.nonEmpty()), MetricThresholdSchema),
});

/** `a.b[0].c: message` for the first issue of a failed valibot parse. */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? [])
    .map((item) => item.key)
    .reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Checks a rule and returns it typed, or throws `InvalidRegistryInput` naming the field.
 * @example validateRule({ primary: 'mae', metrics: { mae: { greaterIsBetter: false, threshold: 40 } } })
 */
export function validateRule(rule: unknown): GateRule {
  const parsed = v.safeParse(GateRuleSchema, rule);
  if (!parsed.success) throw new InvalidRegistryInput(`gate rule: ${describeIssue(parsed.issues[0])}`);
  const { primary, metrics } = parsed.output;
  const main = metrics[primary];
  if (!main) throw new InvalidRegistryInput(`gate rule: metrics.${primary}: the primary metric needs its thresholds`);
  if (main.threshold === undefined) {
    throw new InvalidRegistryInput(`gate rule: metrics.${primary}.threshold: the primary metric needs an absolute threshold, which the first version must pass`);
  }
  if (main.tolerance !== undefined) {
    throw new InvalidRegistryInput(`gate rule: metrics.${primary}.tolerance: the primary metric must improve; tolerances are for guard metrics`);
  }
  return parsed.output as GateRule;
}

// MLflow compares with Python's Decimal, so 0.75 + 0.05 counts as exactly 0.8; binary floats do not.
// A relative slack of 1e-9 gives the same answers for every value a metric takes in practice.
const SLACK = 1e-9;
const atLeast = (a: number, b: number) => a >= b - SLACK * Math.max(1, Math.abs(a), Math.abs(b));
const fmt = formatNumber;

/**
 * The promotion gate's verdict, after MLflow's model validation: the candidate passes iff every
 * metric of the rule clears each criterion it sets, against the champion's metrics from the same
 * gate run (mirrored for lower-is-better metrics). Loupe adds: the primary metric must be strictly
 * better than the champion's, guard metrics may regress by at most their `tolerance`, and a missing
 * metric fails. Without a champion only the absolute thresholds apply.
 * @example decide(rule, { mae: 11.8, rmse: 15 }, { mae: 14.2, rmse: 16 }).passed // true
 */
export function decide(rule: GateRule, candidate: Record<string, number>, champion?: Record<string, number>): GateVerdict {
  const names = [rule.primary, ...Object.keys(rule.metrics).filter((m) => m !== rule.primary)];
  const checks = names.map((metric) => checkMetric(metric, rule.metrics[metric]!, metric === rule.primary ? 'primary' : 'guard', candidate, champion));
  const passed = checks.every((c) => c.passed);
  return { passed, checks, reason: summarize(passed, checks, champion !== undefined) };
}

function checkMetric(
  metric: string,
  t: MetricThreshold,
  role: 'primary' | 'guard',
  candidate: Record<string, number>,
  champion: Record<string, number> | undefined,
): MetricCheck {
  const up = t.greaterIsBetter;
  const c = candidate[metric];
  const b = champion?.[metric];
  const failures: string[] = [];
  const base = { metric, role, greaterIsBetter: up, candidate: c, champion: b };
  if (c === undefined || !Number.isFinite(c)) {
    return { ...base, passed: false, failures: [`${metric} is missing from the candidate's evaluation`] };
  }
  // "better or equal than x": c ≥ x when greater is better, c ≤ x otherwise.
  const noWorseThan = (x: number) => (up ? atLeast(c, x) : atLeast(-c, -x));
  const word = up ? 'at least' : 'at most';
  if (t.threshold !== undefined && !noWorseThan(t.threshold)) {
    failures.push(`${metric} ${fmt(c)} misses the threshold (${word} ${fmt(t.threshold)})`);
  }
  if (champion !== undefined) {
    if (b === undefined || !Number.isFinite(b)) {
      failures.push(`${metric} is missing from the champion's evaluation, so the two cannot be compared`);
    } else {
      const gain = up ? c - b : b - c;
      if (role === 'primary' && !(gain > 0)) {
        failures.push(`${metric} ${fmt(c)} is not better than the champion's ${fmt(b)}`);
      }
      // A primary metric that is not better already failed above; its change criteria need no second sentence.
      const explain = role === 'guard' || gain > 0;
      if (t.minAbsoluteChange !== undefined && !noWorseThan(up ? b + t.minAbsoluteChange : b - t.minAbsoluteChange) && explain) {
        failures.push(
          gain > 0
            ? `${metric} improves on the champion's ${fmt(b)} by only ${fmt(gain)}, less than the minimum absolute change ${fmt(t.minAbsoluteChange)}`
            : `${metric} ${fmt(c)} does not improve on the champion's ${fmt(b)} by the minimum absolute change ${fmt(t.minAbsoluteChange)}`,
        );
      }
      if (t.minRelativeChange !== undefined) {
        // MLflow falls back to "strictly better" when the baseline is 0; |b| keeps the sign right for negative metrics (R²).
        const relative = b === 0 ? (gain > 0 ? Infinity : 0) : gain / Math.abs(b);
        const ok = b === 0 ? gain > 0 : atLeast(relative, t.minRelativeChange);
        if (!ok && explain) {
          failures.push(
            gain > 0
              ? `${metric} improves on the champion's ${fmt(b)} by only ${fmt(relative * 100)}%, less than the minimum relative change ${fmt(t.minRelativeChange * 100)}%`
              : `${metric} ${fmt(c)} does not improve on the champion's ${fmt(b)} by the minimum relative change ${fmt(t.minRelativeChange * 100)}%`,
          );
        }
      }
      if (t.tolerance !== undefined && !noWorseThan(up ? b - t.tolerance : b + t.tolerance)) {
        failures.push(`${metric} regresses from the champion's ${fmt(b)} to ${fmt(c)}, past its tolerance ${fmt(t.tolerance)}`);
      }
    }
  }
  return { ...base, passed: failures.length === 0, failures };
}

function summarize(passed: boolean, checks: MetricCheck[], hadChampion: boolean): string {
  const primary = checks[0]!;
  if (!passed) return `Rejected: ${checks.flatMap((c) => c.failures).join('; ')}.`;
  const values = checks
    .map((c) => (hadChampion ? `${c.metric} ${fmt(c.candidate!)} vs ${fmt(c.champion!)}` : `${c.metric} ${fmt(c.candidate!)}`))
    .join(', ');
  return hadChampion
    ? `Promoted: ${primary.metric} beats the champion and every rule holds (${values}).`
    : `Promoted: no production version yet, and ${primary.metric} clears the absolute threshold (${values}).`;
}

/**
 * Why the gate may not compare two classifiers: they predict different classes, so their accuracy and
 * macro-F1 answer different questions (a 2-class negative/positive model against a 3-class one). The
 * same classes in another order compare fine; a model that does not name its classes (a regressor, a
 * model saved without Loupe metadata) is not refused. Undefined when the two can be compared.
 * @example classSetConflict({ name: 'v3', labels: ['negative', 'positive'] }, { name: 'production v2', labels: ['negative', 'neutral', 'positive'] })
 * // 'v3 predicts negative, positive but production v2 predicts negative, neutral, positive; the gate compares only …'
 */
export function classSetConflict(candidate: { name: string; labels?: readonly string[] }, champion: { name: string; labels?: readonly string[] }): string | undefined {
  const a = candidate.labels;
  const b = champion.labels;
  if (!a || !b) return undefined;
  const same = new Set(a).size === new Set(b).size && a.every((l) => b.includes(l));
  if (same) return undefined;
  return `${candidate.name} predicts ${a.join(', ')} but ${champion.name} predicts ${b.join(', ')}; the gate compares only models with the same classes (accuracy and macro-F1 over different classes are not comparable)`;
}

/**
 * The held-out metrics among a version's recorded metrics, named as the gate names them: runs record
 * `val_mae` (validation) beside `mae` (training); when `val_` keys exist only they count, without the
 * prefix. Metrics without any `val_` key are taken as they are (imported bundles, evaluators).
 */
export function heldOutMetrics(metrics: Record<string, number> | undefined): Record<string, number> {
  const entries = Object.entries(metrics ?? {}).filter(([, value]) => typeof value === 'number' && Number.isFinite(value));
  const validation = entries.filter(([key]) => key.startsWith('val_'));
  if (validation.length === 0) return Object.fromEntries(entries);
  return Object.fromEntries(validation.map(([key, value]) => [key.slice(4), value]));
}

/**
 * Where the figures `heldOutMetrics` picks come from: `val` when they are a run's `val_` metrics (its
 * validation split), undefined when the metrics carry no split (imported bundles, evaluators).
 * @example heldOutSplit({ val_mae: 36, mae: 20 }) // 'val'
 */
export function heldOutSplit(metrics: Record<string, number> | undefined): 'val' | undefined {
  return Object.keys(metrics ?? {}).some((key) => key.startsWith('val_')) ? 'val' : undefined;
}

const LOWER_IS_BETTER = /(loss|mae|mse|rmse|medianae|error)$/i;
const HIGHER_IS_BETTER = /(accuracy|f1|precision|recall|auc|r2)$/i;

/** Whether a larger value of a metric is better, from the rule or else its name (undefined: unknown). */
export function metricDirection(metric: string, rule?: GateRule): 'higher' | 'lower' | undefined {
  const name = metric.replace(/^val_/, '');
  const configured = rule?.metrics[name];
  if (configured) return configured.greaterIsBetter ? 'higher' : 'lower';
  const plain = name.replace(/[_-]/g, '');
  if (HIGHER_IS_BETTER.test(plain)) return 'higher';
  if (LOWER_IS_BETTER.test(plain)) return 'lower';
  return undefined;
}
