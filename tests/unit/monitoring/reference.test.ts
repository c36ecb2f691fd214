import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadReference, measureReference, ReferenceUnavailableError, referenceVocabulary, saveReference } from '../../../src/lib/monitoring/reference';
import { inputStatistics, oovRate } from '../../../src/lib/monitoring/stats';
import type { Prediction, ServingInput } from '../../../src/lib/serving/types';
import { makeDb, seedSentimentDataset } from '../factories';
import { addVersion } from '../serving/fakes';

/** Says "positive" for texts with a positive word, "negative" otherwise, with a fixed confidence. */
const predictor = {
  predict: async (inputs: ServingInput[]): Promise<Prediction[]> =>
    inputs.map((input) => {
      const positive = /great|love|amazing|wonderful|best|happy|excellent|beautiful/.test((input as { text: string }).text);
      return { kind: 'classification', label: positive ? 'positive' : 'negative', index: positive ? 2 : 0, score: positive ? 0.9 : 0.6, probabilities: [] };
    }),
};

describe('reference profile', () => {
  it('is measured on the held-out split of the version\'s dataset: predictions, confidences, text statistics and the training vocabulary', async () => {
    const db = makeDb();
    const datasetId = await seedSentimentDataset(db);
    const version = await addVersion(db, 'sentiment', 1, { lineage: { datasetVersion: datasetId } });
    const profile = await measureReference(db, version, predictor, { now: 5, chunk: 7 });
    const val = await db.samples.where('[datasetId+split]').equals([datasetId, 'val']).toArray();
    expect(profile).toMatchObject({ model: 'sentiment', version: 1, datasetId, split: 'val', createdAt: 5, task: 'text-classification' });
    expect(profile.summary.count).toBe(val.length);
    expect(profile.summary.outputs.positive).toBe(val.filter((s) => s.label === 'positive').length);
    expect(profile.summary.score.bins[8]).toBe(val.filter((s) => s.label === 'positive').length); // 0.9 sits in the 0.8–0.9 bin
    expect(profile.summary.inputs.textLength!.reduce((a, b) => a + b, 0)).toBe(val.length);
    expect(profile.vocabulary).toEqual(expect.arrayContaining(['day', 'park', 'phone', 'honestly']));
    // Validation words the training split never had count as out of vocabulary.
    expect(profile.summary.inputs.oovRate!.reduce((a, b) => a + b, 0)).toBe(val.length);

    await saveReference(db, profile);
    await expect(loadReference(db, 'sentiment', 1)).resolves.toEqual(profile);
    const vocabulary = await referenceVocabulary(db, 'sentiment', 1);
    expect(vocabulary?.has('park')).toBe(true);
    expect(vocabulary?.has('service')).toBe(false); // only the val template says it
  });

  it('says why it cannot be measured', async () => {
    const db = makeDb();
    const noLineage = await addVersion(db, 'sentiment', 1);
    await expect(measureReference(db, noLineage, predictor)).rejects.toThrow(/has no dataset version in its lineage/);
    const empty = await addVersion(db, 'sentiment', 2, { lineage: { datasetVersion: 'missing-ds' } });
    await expect(measureReference(db, empty, predictor)).rejects.toThrow(ReferenceUnavailableError);
  });
});

describe('input statistics', () => {
  it('measure text length and the out-of-vocabulary rate', async () => {
    expect(oovRate('The service, the PARK!', new Set(['the', 'service']))).toBe(0.25);
    expect(oovRate('!!!', new Set(['the']))).toBeUndefined();
    await expect(inputStatistics({ text: 'so good' }, new Set(['so']))).resolves.toEqual({ textLength: 7, oovRate: 0.5 });
    await expect(inputStatistics({ text: 'so good' })).resolves.toEqual({ textLength: 7 });
  });

  it('measure image brightness, size in pixels and file size, averaged over a coin\'s two sides', async () => {
    const png = async (value: number, width: number, height: number) =>
      new Uint8Array(await sharp({ create: { width, height, channels: 3, background: { r: value, g: value, b: value } } }).png().toBuffer());
    const white = await png(255, 64, 64);
    const black = await png(0, 256, 256);
    const one = await inputStatistics({ image: { bytes: white, type: 'image/png' } });
    expect(one.brightness).toBeCloseTo(1, 2);
    expect(one.imageSide).toBe(64);
    expect(one.imageKb).toBeCloseTo(white.byteLength / 1024, 6);
    const coin = await inputStatistics({ front: { bytes: white, type: 'image/png' }, back: { bytes: black, type: 'image/png' } });
    expect(coin.brightness).toBeCloseTo(0.5, 2);
    expect(coin.imageSide).toBe(160);
  });
});
