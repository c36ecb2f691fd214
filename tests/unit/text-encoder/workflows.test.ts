import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '$lib/backends/tfjs';
import { loadTrainable } from '$lib/tasks/loaded';
import { registerTaskPredictors } from '$lib/tasks/serving';
import { loadPredictor } from '$lib/serving/loaders';
import { quickTrainSentiment, registerTransformerBaseline } from '$lib/tasks/sentiment-workflows';
import { ModelRegistry } from '$lib/registry/registry';
import { makeDb, seedSentimentDataset } from '../factories';
import { setDb } from '$lib/db/db';
import { modelKey } from '$lib/text/encoder/source';
import { preprocessTweet } from '$lib/text/preprocess';
import { classifierRef, encoderRef, labelledSentences } from './fixture';

const context = { backend: { backend: 'cpu' as const, adapter: 'unit test' } };

describe('sentiment workflows', () => {
  beforeAll(() => useBackend('cpu'));

  it('registers the transformers.js baseline with its accuracy on the held-out split, reloadable for serving', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db, 'tweets', 10);
    const outcome = await registerTransformerBaseline(db, { datasetId, model: classifierRef(true) }, context);
    expect(outcome.version).toBe(1);
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
      expect(predictor).toMatchObject({ task: 'sentiment', backend: 'wasm' });
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

  it('quick-trains on a reproducible subset, registers, and gates against production', async () => {
    const db = makeDb();
    const sourceDatasetId = await seedSentimentDataset(db, 'tweets', 30);
    const subset = { trainSize: 60, evalSize: 15, seed: 5 };
    const first = await quickTrainSentiment(
      db,
      { sourceDatasetId, subset, model: { architecture: 'fasttext', dim: 8, buckets: 512 }, epochs: 8, batchSize: 16, learningRate: 0.1 },
      context,
    );
    expect(first.decision.outcome).toBe('promoted');
    expect(first.metrics.val_accuracy).toBeGreaterThan(0.6);
    expect(first.metrics).toHaveProperty('val_macroF1');
    const dataset = await db.datasets.get(first.datasetId);
    expect(dataset?.splits).toEqual({ train: 60, val: 15 });
    expect(await new ModelRegistry(db).production('sentiment')).toBe(first.version);

    // The random tiny RoBERTa, measured on the same subset, must not replace the trained model.
    const second = await quickTrainSentiment(db, { sourceDatasetId, subset, model: { architecture: 'transformer', model: classifierRef(true) } }, context);
    expect(second.datasetId).toBe(first.datasetId);
    expect(second.decision.outcome).toBe('rejected');
    expect(second.decision.championMetrics?.accuracy).toBeGreaterThan(second.decision.candidateMetrics!.accuracy!);
    expect(await new ModelRegistry(db).production('sentiment')).toBe(first.version);
  });

  it('quick-trains a head on the frozen encoder through the training job, filling the embedding cache once', async () => {
    const db = makeDb();
    setDb(db); // the job builds the head model, which caches in the worker's database
    // Sentences whose sentiment word is one token of the fixture's BPE (labelledSentences), in train and val splits.
    const sourceDatasetId = 'sentences';
    const samples = [...labelledSentences(24).map((s) => ({ ...s, split: 'train' as const })), ...labelledSentences(8, 24).map((s) => ({ ...s, split: 'val' as const }))].map(
      (s, i) => ({ ...s, id: `s${i}`, datasetId: sourceDatasetId, hash: `h${i}`, path: `row ${i}` }),
    );
    await db.datasets.add({ id: sourceDatasetId, name: 'sentences', task: 'sentiment', createdAt: 1, sampleCount: samples.length });
    await db.samples.bulkAdd(samples);
    const encoder = encoderRef(false);
    const request = {
      sourceDatasetId,
      subset: { trainSize: 60, evalSize: 18, seed: 2 },
      model: { architecture: 'encoder-head' as const, encoder, dim: 64, head: 'linear' as const },
      epochs: 80,
      batchSize: 60,
      learningRate: 0.05,
    };
    const outcome = await quickTrainSentiment(db, request, context);
    expect(outcome.metrics.val_accuracy).toBeGreaterThan(0.5);
    const cached = await db.embeddings.where('encoder').equals(modelKey(encoder)).count();
    const subsetTexts = (await db.samples.where('datasetId').equals(outcome.datasetId).toArray()).map((row) => preprocessTweet(row.text!));
    expect(cached).toBe(new Set(subsetTexts).size);
    // Retraining on the same subset embeds nothing new.
    await quickTrainSentiment(db, { ...request, epochs: 1 }, context);
    expect(await db.embeddings.count()).toBe(cached);
  });
});
