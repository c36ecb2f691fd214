import { getDb } from '$lib/db/db';
import type { ModelVersionRow } from '$lib/db/types';
import { tryWithLock } from '$lib/locks';
import { gateEvaluatorFor } from '$lib/registry/evaluators';
import { taskOfVersion } from '$lib/tasks/names';
import { workerPredictorFactory } from '$lib/serving/worker-predictor';
import { getSetting } from '$lib/settings';
import { notify } from '$lib/ui/notifications.svelte';
import { workers } from '$lib/workers';
import { evaluateAlerts } from '$lib/monitoring/alerts';
import { runDueEvaluations, type VersionEvaluator } from '$lib/monitoring/evaluation';
import { loadReference, measureReference, referenceData, saveReference } from '$lib/monitoring/reference';
import { foldLoggedRows, rebuildRollups } from '$lib/monitoring/rollups';

/** How often the studio evaluates alert rules and due evaluations while it is open. */
export const MONITOR_TICK_MS = 10_000;
const LOCK = 'loupe-monitoring';
const REBUILT_KEY = 'monitoring:rollupsBuilt';

/** Why a version's reference could not be measured (shown on the Monitor page); cleared on success. */
export const referenceFailures = new Map<string, string>();
const measuring = new Map<string, Promise<void>>();

/**
 * Measures a version's reference in the inference worker, on a copy registered under its own key so
 * unloading it never unloads the copy that serves requests.
 */
export function captureReference(version: ModelVersionRow): Promise<void> {
  const key = `${version.name}@${version.version}`;
  const running = measuring.get(key);
  if (running) return running;
  const job = (async () => {
    const db = getDb();
    // Refuse versions without evaluation data before loading anything into the worker.
    const data = await referenceData(db, version);
    const task = taskOfVersion(version);
    const copy: ModelVersionRow = { ...version, name: `${version.name} (monitoring reference)`, tags: { ...version.tags, ...(task ? { task } : {}) } };
    const predictor = await workerPredictorFactory(
      () => workers().inference.api(),
      () => getSetting(db, 'backend'),
    )(copy);
    try {
      await saveReference(db, await measureReference(db, version, predictor, { data }));
      referenceFailures.delete(key);
    } finally {
      await predictor.dispose().catch(() => {});
    }
  })();
  measuring.set(key, job);
  job.catch((error: unknown) => referenceFailures.set(key, error instanceof Error ? error.message : String(error))).finally(() => measuring.delete(key));
  return job;
}

/**
 * References are captured for every production version and every model's newest version (a fresh
 * registration) that lacks one. Each is tried once per session; failures are kept with their reason.
 */
async function captureMissingReferences(): Promise<void> {
  const db = getDb();
  const wanted = new Map<string, ModelVersionRow>();
  for (const alias of (await db.aliases.toArray()).filter((a) => a.alias === 'production')) {
    const row = await db.modelVersions.where('[name+version]').equals([alias.name, alias.version]).first();
    if (row) wanted.set(`${row.name}@${row.version}`, row);
  }
  for (const name of (await db.modelVersions.orderBy('name').uniqueKeys()) as string[]) {
    const newest = await db.modelVersions.where('name').equals(name).last();
    if (newest) wanted.set(`${newest.name}@${newest.version}`, newest);
  }
  for (const [key, row] of wanted) {
    if (referenceFailures.has(key) || !row.modelJson || (await loadReference(db, row.name, row.version))) continue;
    await captureReference(row).catch(() => {});
  }
}

/** The trainer worker's held-out evaluation, as the promotion gate uses it. */
export const evaluateInWorker: VersionEvaluator = async (version, datasetId) => {
  const evaluator = gateEvaluatorFor(taskOfVersion(version));
  if (!evaluator.live) throw new Error(`no live evaluator for ${version.name}'s task in this build`);
  return evaluator.evaluate(version, datasetId);
};

async function tick(): Promise<void> {
  const db = getDb();
  // One tab evaluates at a time; the others skip the tick rather than record every alert twice.
  await tryWithLock(LOCK, async () => {
    await evaluateAlerts(db, {
      onFiring: (alert, rule) => notify(rule.severity === 'critical' ? 'error' : 'warn', `Alert firing — ${alert.summary}${rule.action === 'retrain' ? ' (retraining requested)' : ''}`),
      onResolved: (_alert, rule) => notify('ok', `Alert resolved — ${rule.name} on ${rule.model}`),
    });
    await runDueEvaluations(db, evaluateInWorker);
  });
  await captureMissingReferences();
}

let stop: (() => void) | undefined;

/**
 * Starts the studio's monitoring loop: rollups of logs written before rollups existed are built once,
 * then every `MONITOR_TICK_MS` alert rules are evaluated, due periodic evaluations run, and missing
 * references are captured. Idempotent; returns the function that stops it.
 * @example startMonitoring(); // once, in main.ts
 */
export function startMonitoring(): () => void {
  if (stop) return stop;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const loop = async () => {
    try {
      await tick();
    } catch (error) {
      console.warn('Loupe monitoring tick failed:', error);
    }
    if (!stopped) timer = setTimeout(() => void loop(), MONITOR_TICK_MS);
  };
  void (async () => {
    const db = getDb();
    try {
      // Rows answered by a tab that died before adding them to the rollups: counted before any chart or total is read.
      await foldLoggedRows(db);
      if (!(await db.settings.get(REBUILT_KEY)) && (await db.rollups.count()) === 0 && (await db.inferenceLog.count()) > 0) await rebuildRollups(db);
      await db.settings.put({ key: REBUILT_KEY, value: true });
    } catch (error) {
      console.warn('Loupe could not build monitoring rollups from the existing log:', error);
    }
    await loop();
  })();
  stop = () => {
    stopped = true;
    clearTimeout(timer);
    stop = undefined;
  };
  return stop;
}

/** Runs one monitoring tick now (the Monitor page's "Evaluate now"). */
export const evaluateNow = tick;
