import { setRunModelSource } from '$lib/registry/evaluators';

/**
 * Tells the registry where a completed run keeps its final model, for registering a version from a
 * run: its last checkpoint (training/checkpoints.ts), when that holds a whole tfjs model.
 */
export function registerRunModelSource(): void {
  setRunModelSource(async (db, runId) => {
    const rows = await db.checkpoints.where('[runId+epoch]').between([runId, -Infinity], [runId, Infinity]).toArray();
    const last = rows.at(-1);
    return last && last.modelJson.includes('"modelTopology"') ? { modelJson: last.modelJson, shards: last.shards } : undefined;
  });
}
