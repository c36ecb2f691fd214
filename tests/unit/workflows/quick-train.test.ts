import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '$lib/backends/tfjs';
import { quickTrainText } from '$lib/workflows/quick-train';
import { ModelRegistry } from '$lib/registry/registry';
import { makeDb, seedSentimentDataset } from '../factories';
import { setDb } from '$lib/db/db';
import { modelKey } from '$lib/text/encoder/source';
import { preprocessTweet } from '$lib/text/preprocess';
import { classifierRef, encoderRef, labelledSentences } from '../text-encoder/fixture';

const context = { backend: { backend: 'cpu' as const, adapter: 'unit test' } };

describe('sentiment quick-train', () => {
  beforeAll(() => useBackend('cpu'));

  it('quick-trains on a reproducible subset, registers, and gates against production', async () => {
    const db = makeDb();
    const sourceDatasetId = await seedSentimentDataset(db, 'tweets', 30);
    const subset = { trainSize: 60, evalSize: 15, seed: 5 };
    const first = await quickTrainText(
      db,
      { sourceDatasetId, subset, model: { architecture: 'fasttext', dim: 8, buckets: 512 }, epochs: 8, batchSize: 16, learningRate: 0.1 },
      context,
    );
    expect(first).toMatchObject({ name: 'sentiment', decision: { outcome: 'promoted' } });
    expect(first.metrics.val_accuracy).toBeGreaterThan(0.6);
    expect(first.metrics).toHaveProperty('val_macroF1');
    const dataset = await db.datasets.get(first.datasetId);
    expect(dataset?.splits).toEqual({ train: 60, val: 15 });
    expect(await new ModelRegistry(db).production('sentiment')).toBe(first.version);

    // The random tiny RoBERTa, measured on the same subset, must not replace the trained model.
    const second = await quickTrainText(db, { sourceDatasetId, subset, model: { architecture: 'transformer', model: classifierRef(true) } }, context);
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
    await db.datasets.add({ id: sourceDatasetId, name: 'sentences', task: 'text-classification', createdAt: 1, sampleCount: samples.length });
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
    const outcome = await quickTrainText(db, request, context);
    expect(outcome.metrics.val_accuracy).toBeGreaterThan(0.5);
    const cached = await db.embeddings.where('encoder').equals(modelKey(encoder)).count();
    const subsetTexts = (await db.samples.where('datasetId').equals(outcome.datasetId).toArray()).map((row) => preprocessTweet(row.text!));
    expect(cached).toBe(new Set(subsetTexts).size);
    // Retraining on the same subset embeds nothing new.
    await quickTrainText(db, { ...request, epochs: 1 }, context);
    expect(await db.embeddings.count()).toBe(cached);
  });
});
