import type { LoupeDb } from '../../../src/lib/db/db';
import type { PipelineServices } from '../../../src/lib/pipelines/services';
import { findRunModel } from '../../../src/lib/registry/evaluators';
import { ModelRegistry } from '../../../src/lib/registry/registry';
import { loadTrainable } from '../../../src/lib/tasks/loaded';
import { evaluateHeldOut } from '../../../src/lib/training/evaluate';
import { resumeTrainJob, runTrainJob, type TrainJobContext } from '../../../src/lib/training/job';
import { memoryWeightCache } from '../../../src/lib/weights/cache';
import { initialWeightsResolver } from '../../../src/lib/workflows/initial-weights';

const backend = { backend: 'cpu' as const, adapter: 'JavaScript CPU kernels' };

async function measure(db: LoupeDb, weights: { modelJson?: string; shards?: Blob[] }, datasetId: string) {
  if (!weights.modelJson || !weights.shards) throw new Error('no weights');
  const trainable = await loadTrainable({ modelJson: weights.modelJson, shards: weights.shards });
  try {
    return await evaluateHeldOut(db, trainable, datasetId);
  } finally {
    trainable.dispose();
  }
}

/**
 * The pipeline's services as the trainer worker and the page provide them, running in-process on the
 * cpu backend: the same training, evaluation, registry and loading code.
 */
export function nodeServices(db: LoupeDb, deployed: string[] = []): PipelineServices {
  // As the trainer worker does: first weights from the registry (a warm start) or a weight cache.
  const initialWeights = initialWeightsResolver(db, { cache: memoryWeightCache() });
  const context = (hooks: Parameters<PipelineServices['train']>[1]): TrainJobContext => ({ backend, onProgress: hooks.onProgress, onRunCreated: hooks.onRunCreated, signal: hooks.signal, initialWeights });
  return {
    db,
    registry: new ModelRegistry(db),
    train: async (spec, hooks) => {
      const { runId, metrics, trainable } = await runTrainJob(db, spec, context(hooks));
      trainable.dispose();
      return { runId, metrics };
    },
    resume: async (runId, hooks) => {
      const { metrics, trainable } = await resumeTrainJob(db, runId, context(hooks));
      trainable.dispose();
      return { runId, metrics };
    },
    evaluate: (weights, datasetId) => measure(db, weights, datasetId),
    runModel: (runId) => findRunModel(db, runId),
    gateEvaluator: () => ({ label: 'in-process cpu (held-out split)', live: true, evaluate: (version, datasetId) => measure(db, version, datasetId) }),
    deploy: async (model, version) => {
      const row = await new ModelRegistry(db).get(model, version);
      const trainable = await loadTrainable({ modelJson: row.modelJson!, shards: row.shards! });
      trainable.dispose();
      deployed.push(`${model}@${version}`);
      return `${model} v${version} loaded`;
    },
    now: () => Date.now(),
  };
}
