import type { ModelVersionRow } from '$lib/db/types';
import { getDb } from '$lib/db/db';
import { registerGateEvaluator } from '$lib/registry/evaluators';
import { getSetting } from '$lib/settings';
import { TASK_NAMES } from '$lib/tasks/names';

/**
 * Measures a version on a dataset version's held-out split on the given backend choice: the trainer
 * worker's `evaluateVersion`, which the shell hands in (workflows sit below the worker clients).
 */
export type EvaluateVersion = (version: ModelVersionRow, evalDataVersion: string, backendChoice: string) => Promise<Record<string, number>>;

/**
 * Plugs the trainer worker into the registry's promotion gate: champion and challenger are loaded and
 * measured on the same held-out split, in the worker, on the user's backend.
 * @example registerGateEvaluators((...args) => workers().trainer.api().evaluateVersion(...args));
 */
export function registerGateEvaluators(evaluateVersion: EvaluateVersion): void {
  for (const task of TASK_NAMES) {
    registerGateEvaluator(task, {
      label: 'measured in the trainer worker on the held-out split (test, else val)',
      live: true,
      evaluate: async (version, evalDataVersion) => evaluateVersion(version, evalDataVersion, await getSetting(getDb(), 'backend')),
    });
  }
}
