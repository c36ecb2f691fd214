import { readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyTexts, encodeTexts } from '$lib/text/encoder/inference';
import { loadTextModel, unloadTextModels, type DownloadProgress } from '$lib/text/encoder/runtime';
import { modelKey, ModelSourceError, validateSource } from '$lib/text/encoder/source';
import { CLASSIFIER_PATH, ENCODER_PATH, classifierRef, encoderRef } from './fixture';

const reference = JSON.parse(readFileSync(`${CLASSIFIER_PATH}/reference.json`, 'utf8')) as { referenceIds: number[][]; referenceLogits: number[][] };
const softmax = (xs: number[]) => {
  const exps = xs.map((x) => Math.exp(x - Math.max(...xs)));
  return exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
};

afterAll(() => unloadTextModels());

describe('transformers.js on the tiny RoBERTa fixture (onnxruntime-node)', () => {
  it('classifies with the labels of config.json, fp32 matching the torch reference', async () => {
    const { tokenizer } = await loadTextModel(classifierRef(false), 'classifier');
    const encode = tokenizer as unknown as (text: string) => { input_ids: { data: BigInt64Array } };
    expect(Array.from(encode(' great').input_ids.data, Number)).toEqual(reference.referenceIds[0]);
    const { labels, probabilities } = await classifyTexts(classifierRef(false), [' great', 'I hate this', '@user the meeting is at noon http']);
    expect(labels).toEqual(['negative', 'neutral', 'positive']);
    expect(probabilities).toHaveLength(3);
    for (const p of probabilities) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // Padded in a batch of three, " great" still gets the logits torch computed for <s> Ġgreat </s>.
    const expected = softmax(reference.referenceLogits[0]!);
    Array.from(probabilities[0]!).forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 4));
  });

  it('runs the quantized weights (onnx/model_quantized.onnx) close to fp32', async () => {
    const texts = ['great', 'what an awful day'];
    const fp32 = await classifyTexts(classifierRef(false), texts);
    const q8 = await classifyTexts(classifierRef(true), texts);
    q8.probabilities.forEach((p, i) => Array.from(p).forEach((v, c) => expect(Math.abs(v - fp32.probabilities[i]![c]!)).toBeLessThan(0.05)));
  });

  it('embeds with mean or first-token pooling, one hidden_size vector per text, independent of batch padding', async () => {
    const alone = await encodeTexts(encoderRef(false), ['hi']);
    const [short, long] = await encodeTexts(encoderRef(false), ['hi', 'a much longer sentence with many more tokens in it']);
    expect(short).toHaveLength(64);
    expect(long).toHaveLength(64);
    Array.from(alone[0]!).forEach((v, i) => expect(short![i]).toBeCloseTo(v, 4));
    const [cls] = await encodeTexts(encoderRef(false, 'cls'), ['hi']);
    expect(Array.from(cls!)).not.toEqual(Array.from(short!));
  });

  it('reports each file as it arrives, ending with its full size', async () => {
    const progress: DownloadProgress[] = [];
    await loadTextModel(encoderRef(true, 'cls'), 'encoder', (p) => progress.push(p));
    const weights = progress.filter((p) => p.file === 'onnx/model_quantized.onnx');
    expect(weights.length).toBeGreaterThan(0);
    expect(weights.at(-1)!.loaded).toBe(statSync(`${ENCODER_PATH}/onnx/model_quantized.onnx`).size);
    expect(weights.at(-1)!.total).toBe(weights.at(-1)!.loaded);
    expect(progress.map((p) => p.file)).toEqual(expect.arrayContaining(['tokenizer.json', 'config.json']));
  });

  it('refuses a classification export as an encoder, saying why', async () => {
    const asEncoder = { ...classifierRef(false), pooling: 'mean' as const };
    await expect(encodeTexts(asEncoder, ['hi'])).rejects.toThrow(/no last_hidden_state.*feature-extraction export/);
  });

  it('says which files a missing folder needs, and forgets the failed load', async () => {
    const ref = { source: { kind: 'path' as const, path: '/nonexistent/model' }, quantized: true };
    const failure = loadTextModel(ref, 'classifier');
    await expect(failure).rejects.toBeInstanceOf(ModelSourceError);
    await expect(failure).rejects.toThrow(/config\.json, tokenizer\.json, onnx\/model_quantized\.onnx/);
    await expect(loadTextModel(ref, 'classifier')).rejects.toThrow(/could not load/);
  });

  it('validates sources and keys them by source, weights and pooling', () => {
    expect(() => validateSource({ kind: 'host', host: 'ftp://x', modelId: 'a/b' })).toThrow(/host must be an http\(s\) URL/);
    expect(() => validateSource({ kind: 'hub', modelId: 'not a model' })).toThrow(/modelId must look like/);
    expect(() => validateSource({ kind: 'folder', name: '../x/y' })).toThrow(/folder name/);
    expect(modelKey(encoderRef(true))).not.toBe(modelKey(encoderRef(false)));
    expect(modelKey(encoderRef(true, 'mean'))).not.toBe(modelKey(encoderRef(true, 'cls')));
  });
});
