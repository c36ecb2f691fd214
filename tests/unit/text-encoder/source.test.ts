import { describe, expect, it } from 'vitest';
import { labelColumns } from '$lib/tasks/text-classification/encoder';
import { DEFAULT_TEXT_MODELS, getTextModelSettings, setTextModelSettings, TEXT_MODELS_SETTING } from '$lib/text/encoder/source';
import { makeDb } from '../factories';

describe('text model settings', () => {
  it('default to the hub baseline (quantized) and a feature-extraction encoder', async () => {
    const db = makeDb();
    expect(await getTextModelSettings(db)).toEqual(DEFAULT_TEXT_MODELS);
    expect(DEFAULT_TEXT_MODELS.classifier).toEqual({ source: { kind: 'hub', modelId: 'Xenova/twitter-roberta-base-sentiment-latest' }, quantized: true });
  });

  it('store a valid choice and refuse an invalid one, naming the field', async () => {
    const db = makeDb();
    const settings = {
      classifier: { source: { kind: 'host' as const, host: 'https://mirror.example/', modelId: 'team/roberta' }, quantized: false },
      encoder: { source: { kind: 'folder' as const, name: 'roberta-encoder' }, quantized: true, pooling: 'cls' as const },
    };
    await setTextModelSettings(db, settings);
    expect(await getTextModelSettings(db)).toEqual(settings);
    await expect(setTextModelSettings(db, { ...settings, encoder: { ...settings.encoder, source: { kind: 'folder', name: '' } } })).rejects.toThrow(/encoder\.source\.name/);
    await expect(setTextModelSettings(db, { ...settings, classifier: { ...settings.classifier, source: { kind: 'host', host: 'nope', modelId: 'a/b' } } })).rejects.toThrow(
      /classifier\.source\.host must be an http\(s\) URL/,
    );
    expect((await db.settings.get(TEXT_MODELS_SETTING))?.value).toEqual(settings);
  });
});

describe('label columns', () => {
  it("map the task's labels onto the model's, in the task's order", () => {
    expect(labelColumns(['positive', 'negative', 'neutral'], ['negative', 'neutral', 'positive'], 'm')).toEqual([1, 2, 0]);
    expect(labelColumns(['negative', 'neutral', 'positive'], ['Negative', 'positive'], 'm')).toEqual([0, 2]);
    expect(() => labelColumns(['label_0', 'label_1'], ['negative'], 'hub:x#q8')).toThrow(/hub:x#q8 predicts label_0, label_1.*"negative"/);
  });
});
