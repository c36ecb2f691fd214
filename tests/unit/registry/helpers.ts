import type { LoupeDb } from '../../../src/lib/db/db';
import type { ModelVersionRow } from '../../../src/lib/db/types';
import { ModelRegistry, type RegistryOptions } from '../../../src/lib/registry/registry';
import type { GateEvaluator, RegisterInput } from '../../../src/lib/registry/types';
import { makeDb } from '../factories';

/**
 * The Keras topology tfjs writes for a model with image inputs `names` of `size` px (what `model.toJSON()`
 * gives for `tf.model({ inputs: [tf.input({ shape: [size, size, 3], name })…] })`), trimmed to the inputs.
 */
export function imageInputsTopology(size: number, names: string[] = ['front', 'back']): Record<string, unknown> {
  return {
    class_name: 'Model',
    config: {
      name: 'images',
      layers: names.map((name) => ({
        name,
        class_name: 'InputLayer',
        config: { batch_input_shape: [null, size, size, 3], dtype: 'float32', sparse: false, name },
        inbound_nodes: [],
      })),
      input_layers: names.map((name) => [name, 0, 0]),
      output_layers: [[names[0], 0, 0]],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
}

/**
 * A tiny tfjs layers-model: model.json with a 2×1 kernel and a bias (12 bytes of float32) in one shard.
 * Its topology names no inputs unless one is given (see `imageInputsTopology`).
 */
export function fakeArtifacts(values: number[] = [0.5, -0.25, 0.125], topology: Record<string, unknown> = { class_name: 'Sequential', config: { name: 'tiny', layers: [] } }): { modelJson: string; shards: Blob[] } {
  const modelJson = JSON.stringify({
    modelTopology: topology,
    format: 'layers-model',
    generatedBy: 'test',
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'dense/kernel', shape: [2, 1], dtype: 'float32' },
          { name: 'dense/bias', shape: [1], dtype: 'float32' },
        ],
      },
    ],
  });
  return { modelJson, shards: [new Blob([new Float32Array(values)])] };
}

export function registerInput(overrides: Partial<RegisterInput> = {}): RegisterInput {
  return {
    name: 'coin-year',
    ...fakeArtifacts(),
    metrics: { val_mae: 14, val_rmse: 18, mae: 9 },
    lineage: { runId: 'run-1', task: 'coin-year', datasetVersion: 'ds-1', params: { task: 'coin-year', datasetId: 'ds-1', model: { architecture: 'coin-regressor', backbone: 'resnet18' }, epochs: 3 }, seed: 7, backend: 'cpu', appVersion: '0.1.0', gitCommit: 'abc1234' },
    ...overrides,
  };
}

/** A registry on a fresh in-memory database with a fixed, ticking clock. */
export function makeRegistry(options: RegistryOptions = {}, db: LoupeDb = makeDb()): ModelRegistry {
  let t = 1_700_000_000_000;
  return new ModelRegistry(db, { now: () => (t += 1000), appVersion: '9.9.9', gitCommit: 'feedbee', ...options });
}

/**
 * An evaluator that reads a table of metrics per version (as measured on `evalSet`), optionally
 * waiting `delayMs` so that concurrent gates overlap, and logging its calls.
 */
export function tableEvaluator(table: Record<number, Record<string, number>>, delayMs = 0): GateEvaluator & { calls: [number, string][] } {
  const calls: [number, string][] = [];
  const evaluate = async (version: ModelVersionRow, evalSet: string) => {
    calls.push([version.version, evalSet]);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const metrics = table[version.version];
    if (!metrics) throw new Error(`no metrics for v${version.version}`);
    return metrics;
  };
  return Object.assign(evaluate, { calls });
}

/** Row counts of every table, to prove that a refused operation wrote nothing. */
export async function tableCounts(db: LoupeDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of db.tables) out[table.name] = await table.count();
  return out;
}
