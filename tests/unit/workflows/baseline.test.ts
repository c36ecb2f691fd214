import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '$lib/backends/tfjs';
import { loadTrainable } from '$lib/tasks/loaded';
import { registerTaskPredictors } from '$lib/workflows/predictors';
import { loadPredictor } from '$lib/serving/loaders';
import { registerTransformerBaseline } from '$lib/workflows/baseline';
import { ModelRegistry } from '$lib/registry/registry';
import { makeDb, seedSentimentDataset } from '../factories';
import { classifierRef } from '../text-encoder/fixture';

const context = { backend: { backend: 'cpu' as const, adapter: 'unit test' } };

describe('sentiment baseline', () => {
  beforeAll(() => useBackend('cpu'));

  it('registers the transformers.js baseline with its accuracy on the held-out split, reloadable for serving', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db, 'tweets', 10);
    const outcome = await registerTransformerBaseline(db, { datasetId, model: classifierRef(true) }, context);
    // Unnamed, it registers under the dataset's preset.
    expect(outcome).toMatchObject({ name: 'sentiment', version: 1 });
    expect(outcome.metrics.val_accuracy).toBeGreaterThanOrEqual(0);
    expect(outcome.metrics.val_macroF1).toBeGreaterThanOrEqual(0);
    const run = await db.runs.get(outcome.runId);
    expect(run?.status).toBe('completed');
    const version = await new ModelRegistry(db).get('sentiment', 1);
    expect(version.tags?.architecture).toBe('transformer');
    expect(version.lineage?.datasetVersion).toBe(datasetId);
    const trainable = await loadTrainable({ modelJson: version.modelJson!, shards: version.shards! });
    try {
      expect(trainable.metadata).toMatchObject({ architecture: 'transformer', labels: ['negative', 'neutral', 'positive'] });
    } finally {
      trainable.dispose();
    }
    // Served, it says where it runs: ONNX Runtime's WebAssembly, although tfjs is on cpu here.
    registerTaskPredictors();
    const predictor = await loadPredictor(version);
    try {
      expect(predictor).toMatchObject({ task: 'text-classification', backend: 'wasm' });
    } finally {
      await predictor.dispose();
    }
  });

  it('records a failed baseline run with the reason when the model cannot load', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db, 'tweets', 4);
    const missing = { source: { kind: 'path' as const, path: '/nowhere/tiny' }, quantized: true };
    await expect(registerTransformerBaseline(db, { datasetId, model: missing }, context)).rejects.toThrow(/could not load/);
    const [run] = await db.runs.toArray();
    expect(run?.status).toBe('failed');
    expect(run?.failureReason).toMatch(/config\.json/);
    expect(await db.modelVersions.count()).toBe(0);
  });
});
