import type { LoupeDb } from '$lib/db/db';
import type { GateDecisionRow } from '$lib/db/types';
import { PromotionRejected } from '$lib/registry/errors';
import { findRunModel, gateEvaluatorFor, type NamedEvaluator } from '$lib/registry/evaluators';
import { ModelRegistry, type RunRegistration } from '$lib/registry/registry';
import { bestTrial, SweepError } from './controller';
import type { SweepRegistration } from './definition';

export interface RegisterBestOptions {
  /** The registry model to register under; defaults to the sweep's task. */
  name?: string;
  registry?: ModelRegistry;
  /** How the gate measures; defaults to the task's (the trainer worker in the app). */
  evaluator?: NamedEvaluator;
  trigger?: 'manual' | 'pipeline';
  now?: () => number;
}

export interface RegisterBestResult {
  /** The version (`alreadyRegistered` when the best trial's run was registered before). */
  version: RunRegistration;
  registration: SweepRegistration;
  /** The gate's decision (absent when the gate could not evaluate). */
  decision?: GateDecisionRow;
}

/**
 * Registers the sweep's best trial as the next version of a model and sends it through the registry's
 * promotion gate on the sweep's dataset version. A rejection is an outcome, not an error: the version
 * stays (as `rejected`, with the reason), and the outcome is kept on the sweep either way.
 * @example const { registration } = await registerBest(db, sweepId, { name: 'sentiment' });
 */
export async function registerBest(db: LoupeDb, sweepId: string, options: RegisterBestOptions = {}): Promise<RegisterBestResult> {
  const sweep = await db.sweeps.get(sweepId);
  if (!sweep) throw new SweepError(`sweep ${sweepId} does not exist`);
  const best = bestTrial(sweep);
  if (!best?.runId) throw new SweepError(`sweep "${sweep.name}" has no finished trial to register yet`);
  const weights = await findRunModel(db, best.runId);
  if (!weights) throw new SweepError(`the best trial's run (${best.runId}) has no saved model to register`);
  const registry = options.registry ?? new ModelRegistry(db);
  const evaluator = options.evaluator ?? gateEvaluatorFor(sweep.task);
  const trigger = options.trigger ?? 'manual';
  const name = options.name?.trim() || sweep.task;
  const version = await registry.registerFromRun(best.runId, { name, weights, tags: { sweep: sweep.id, 'sweep.trial': String(best.index + 1) }, trigger });
  const at = (options.now ?? Date.now)();
  let registration: SweepRegistration;
  let decision: GateDecisionRow | undefined;
  // Registered before: the gate's decision on it stands (a failed gate run is tried again).
  const decided = version.alreadyRegistered ? await registry.latestGateDecision(name, version.version) : undefined;
  if (decided && decided.outcome !== 'failed') {
    const outcome = decided.outcome === 'promoted' ? 'promoted' : 'rejected';
    registration = { name, version: version.version, runId: best.runId, outcome, reason: `Already registered as v${version.version}; the gate decided: ${decided.reason}`, at };
    await db.sweeps.update(sweep.id, { registered: registration });
    return { version, registration, decision: decided };
  }
  try {
    decision = await registry.promote({ name, version: version.version, evalDataVersion: sweep.datasetId, evaluate: evaluator.evaluate, evaluator: evaluator.label, trigger });
    registration = { name, version: version.version, runId: best.runId, outcome: 'promoted', reason: decision.reason, at };
  } catch (error) {
    if (error instanceof PromotionRejected) {
      decision = error.decision;
      registration = { name, version: version.version, runId: best.runId, outcome: 'rejected', reason: error.message, at };
    } else {
      registration = { name, version: version.version, runId: best.runId, outcome: 'failed', reason: error instanceof Error ? error.message : String(error), at };
    }
  }
  await db.sweeps.update(sweep.id, { registered: registration });
  return { version, registration, ...(decision ? { decision } : {}) };
}
