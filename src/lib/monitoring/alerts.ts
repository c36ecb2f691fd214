import type { LoupeDb } from '$lib/db/db';
import type { AlertComparison, AlertRow, AlertRuleRow, EvalPointRow } from '$lib/db/types';
import { formatNumber } from '$lib/format';
import { driftReport } from './drift';
import { ALERT_METRICS, isDriftMetric, metricValue } from './metrics';
import { loadReference } from './reference';
import { MINUTE_MS, readWindow, sumRollups } from './rollups';

export class AlertRuleError extends Error {
  override name = 'AlertRuleError';
}

export function holds(value: number, comparison: AlertComparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/** Checks a rule a user wrote; throws naming the field and what was expected. */
export function validateRule(rule: AlertRuleRow): AlertRuleRow {
  const fail = (field: string, expected: string, got: unknown) => {
    throw new AlertRuleError(`alert rule "${rule.name || rule.id}": ${field} must be ${expected}, got ${JSON.stringify(got)}`);
  };
  if (!rule.name?.trim()) fail('name', 'a non-empty name', rule.name);
  if (!rule.model?.trim()) fail('model', 'a model name', rule.model);
  if (!(rule.metric in ALERT_METRICS)) fail('metric', `one of ${Object.keys(ALERT_METRICS).join(', ')}`, rule.metric);
  if (!['>', '>=', '<', '<='].includes(rule.comparison)) fail('comparison', 'one of >, >=, <, <=', rule.comparison);
  if (!Number.isFinite(rule.threshold)) fail('threshold', 'a number', rule.threshold);
  if (!(Number.isFinite(rule.windowMinutes) && rule.windowMinutes >= 1)) fail('window', 'at least 1 minute', rule.windowMinutes);
  if (!(Number.isFinite(rule.forMinutes) && rule.forMinutes >= 0)) fail('for', '0 minutes or more', rule.forMinutes);
  if (!['notify', 'retrain'].includes(rule.action)) fail('action', 'notify or retrain', rule.action);
  return rule;
}

/** Prometheus's rule text of a rule, for display and export. */
export function ruleExpression(rule: Pick<AlertRuleRow, 'model' | 'metric' | 'comparison' | 'threshold' | 'windowMinutes'>): string {
  return `${rule.metric}{model="${rule.model}"}[${rule.windowMinutes}m] ${rule.comparison} ${rule.threshold}`;
}

export function alertSummary(rule: AlertRuleRow, value: number): string {
  const { label, unit } = ALERT_METRICS[rule.metric];
  const shown = unit === 'ms' ? `${formatNumber(value)} ms` : formatNumber(value);
  return `${rule.name} on ${rule.model}: ${label} is ${shown} (${rule.comparison} ${formatNumber(rule.threshold)}) over the last ${rule.windowMinutes} min`;
}

/**
 * One evaluation step of a rule, as Prometheus does it: a condition that starts holding makes the
 * alert pending (or firing at once when `for` is 0); pending turns firing once it has held `for`
 * minutes; a condition that stops holding resolves the alert. Returns the row to write, or undefined
 * when nothing changes. An unknown value (no data in the window) changes nothing.
 */
export function stepAlert(rule: AlertRuleRow, value: number | undefined, active: AlertRow | undefined, now: number): AlertRow | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const labels = { model: rule.model, metric: rule.metric, alertname: rule.name, severity: rule.severity, action: rule.action };
  if (!holds(value, rule.comparison, rule.threshold)) {
    return active ? { ...active, state: 'resolved', resolvedAt: now, value } : undefined;
  }
  const summary = alertSummary(rule, value);
  if (!active) {
    const firing = rule.forMinutes <= 0;
    return { id: `${rule.id}:${now}`, rule: rule.id, state: firing ? 'firing' : 'pending', since: now, ...(firing ? { firedAt: now } : {}), labels, summary, value };
  }
  if (active.state === 'pending' && now - active.since >= rule.forMinutes * MINUTE_MS) {
    return { ...active, state: 'firing', firedAt: now, summary, value };
  }
  return undefined;
}

/** The alert of a rule that is pending or firing now, if any. */
export function activeAlert(db: LoupeDb, ruleId: string): Promise<AlertRow | undefined> {
  return db.alerts
    .where('rule')
    .equals(ruleId)
    .filter((a) => a.state !== 'resolved')
    .first();
}

/**
 * Validates a rule and stores it.
 * @throws AlertRuleError naming the field that is wrong
 * @example await addAlertRule(db, { id, model: 'sentiment', name: 'Drift', metric: 'psi_max', comparison: '>', threshold: 0.2, … });
 */
export async function addAlertRule(db: LoupeDb, rule: AlertRuleRow): Promise<AlertRuleRow> {
  const checked = validateRule(rule);
  await db.alertRules.add(checked);
  return checked;
}

/** Turns a rule on or off; a rule that is off is not evaluated (its alert stays as it was). */
export async function setAlertRuleEnabled(db: LoupeDb, ruleId: string, enabled: boolean): Promise<void> {
  await db.alertRules.update(ruleId, { enabled });
}

/**
 * Deletes a rule and, in the same transaction, resolves its pending or firing alert: nothing would
 * evaluate that alert again, so it would otherwise stay active forever. Resolved alerts stay as history.
 */
export async function deleteAlertRule(db: LoupeDb, ruleId: string, now = Date.now()): Promise<void> {
  await db.transaction('rw', db.alertRules, db.alerts, async () => {
    await db.alertRules.delete(ruleId);
    await db.alerts
      .where('rule')
      .equals(ruleId)
      .filter((a) => a.state !== 'resolved')
      .modify({ state: 'resolved', resolvedAt: now });
  });
}

export interface AlertEvaluationOptions {
  now?: number;
  /** The version whose reference drift compares with (default: the model's production version). */
  referenceVersion?: (model: string) => Promise<number | undefined>;
  /** Called for every alert that starts firing (the studio shows a notification). */
  onFiring?: (alert: AlertRow, rule: AlertRuleRow) => void;
  onResolved?: (alert: AlertRow, rule: AlertRuleRow) => void;
}

/** A rule's metric over its window, read from rollups (and the reference, evaluation points). */
export async function ruleValue(db: LoupeDb, rule: AlertRuleRow, now: number, referenceVersion?: number): Promise<number | undefined> {
  const from = now - rule.windowMinutes * MINUTE_MS;
  const rollups = await readWindow(db, rule.model, from, now);
  const window = sumRollups(rule.model, rollups);
  let drift;
  if (isDriftMetric(rule.metric) && referenceVersion !== undefined) {
    const reference = await loadReference(db, rule.model, referenceVersion);
    if (reference) drift = driftReport(window, reference);
  }
  let evalPoints: EvalPointRow[] | undefined;
  if (rule.metric === 'evaluation') {
    evalPoints = await db.evalPoints.where('[model+ts]').between([rule.model, from], [rule.model, now], true, true).toArray();
    window.task ??= (await db.rollups.where('model').equals(rule.model).last())?.task;
  }
  return metricValue(rule.metric, { window, drift, evalPoints });
}

/**
 * Evaluates every enabled rule once and records what changed in `alerts`: new pending or firing
 * alerts, pending ones that fire, firing ones that resolve. Returns the rows written.
 * @example await evaluateAlerts(db, { onFiring: (alert) => notify('warn', alert.summary!) });
 */
export async function evaluateAlerts(db: LoupeDb, options: AlertEvaluationOptions = {}): Promise<AlertRow[]> {
  const now = options.now ?? Date.now();
  const rules = (await db.alertRules.toArray()).filter((r) => r.enabled);
  const versions = new Map<string, Promise<number | undefined>>();
  const productionOf = options.referenceVersion ?? (async (model: string) => (await db.aliases.get([model, 'production']))?.version);
  const written: AlertRow[] = [];
  for (const rule of rules) {
    if (!versions.has(rule.model)) versions.set(rule.model, productionOf(rule.model));
    const value = await ruleValue(db, rule, now, await versions.get(rule.model));
    const active = await activeAlert(db, rule.id);
    const next = stepAlert(rule, value, active, now);
    if (!next) continue;
    await db.alerts.put(next);
    written.push(next);
    if (next.state === 'firing' && active?.state !== 'firing') options.onFiring?.(next, rule);
    if (next.state === 'resolved') options.onResolved?.(next, rule);
  }
  return written;
}
