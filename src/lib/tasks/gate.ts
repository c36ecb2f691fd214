import type { TaskName } from '$lib/db/types';
import { registerGateEvaluator, setRunModelSource } from '$lib/registry/evaluators';
import { getSetting } from '$lib/settings';
import { getDb } from '$lib/db/db';
import { workers } from '$lib/workers';

/**
 * Plugs the trainer worker into the registry's promotion gate: champion and challenger are loaded and
 * measured on the same held-out split, in the worker, on the user's backend.
 */
export function registerGateEvaluators(): void {
  for (const task of ['coin-year', 'car-damage', 'sentiment'] as TaskName[]) {
    registerGateEvaluator(task, {
      label: 'measured in the trainer worker on the held-out split (test, else val)',
      live: true,
      evaluate: async (version, evalDataVersion) =>
        workers().trainer.api().evaluateVersion(version, evalDataVersion, await getSetting(getDb(), 'backend')),
    });
  }
  // Completed runs keep their final model as their last checkpoint (training/checkpoints.ts).
  setRunModelSource(async (db, runId) => {
    const rows = await db.checkpoints.where('[runId+epoch]').between([runId, -Infinity], [runId, Infinity]).toArray();
    const last = rows.at(-1);
    return last && last.modelJson.includes('"modelTopology"') ? { modelJson: last.modelJson, shards: last.shards } : undefined;
  });
}
