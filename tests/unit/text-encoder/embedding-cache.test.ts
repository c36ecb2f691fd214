import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { clearEmbeddings, cachedEmbeddings, countEmbeddings } from '$lib/text/encoder/embedding-cache';
import { encodeTexts } from '$lib/text/encoder/inference';
import { modelKey } from '$lib/text/encoder/source';
import { encoderHeadClassifier } from '$lib/tasks/text-classification/encoder';
import { TEXT_CLASSIFICATION } from '$lib/tasks/text-classification';
import type { SampleRow } from '$lib/db/types';
import { makeDb } from '../factories';
import { encoderRef } from './fixture';

const row = (text: string, i: number): SampleRow => ({ id: `r${i}`, datasetId: 'd', split: 'train', label: 'neutral', hash: `h${i}`, path: `row ${i}`, text });

describe('embedding cache keyed by (encoder, text hash)', () => {
  it('embeds only texts the encoder has not seen, once per distinct text', async () => {
    const db = makeDb();
    const embed = vi.fn(async (texts: string[]) => texts.map((t) => Float32Array.from([t.length, 1])));
    const first = await cachedEmbeddings(db, 'enc-a', ['a', 'bb', 'a'], embed);
    expect(first).toMatchObject({ hits: 0, misses: 2 });
    expect(embed).toHaveBeenCalledWith(['a', 'bb']);
    expect(first.vectors.map((v) => v[0])).toEqual([1, 2, 1]);

    const second = await cachedEmbeddings(db, 'enc-a', ['bb', 'ccc', 'a'], embed);
    expect(second).toMatchObject({ hits: 2, misses: 1 });
    expect(embed).toHaveBeenLastCalledWith(['ccc']);
    expect(second.vectors.map((v) => v[0])).toEqual([2, 3, 1]);

    // Another encoder never reuses these vectors.
    const other = await cachedEmbeddings(db, 'enc-b', ['a'], embed);
    expect(other).toMatchObject({ hits: 0, misses: 1 });
    expect(await countEmbeddings(db, 'enc-a')).toBe(3);
    await clearEmbeddings(db, 'enc-a');
    expect(await countEmbeddings(db, 'enc-a')).toBe(0);
    expect(await countEmbeddings(db, 'enc-b')).toBe(1);
  });

  it('rejects an encoder that returns the wrong number of vectors', async () => {
    await expect(cachedEmbeddings(makeDb(), 'e', ['x', 'y'], async () => [new Float32Array(2)])).rejects.toThrow(/returned 1 vectors for 2 texts/);
  });

  it('feeds a head model from the cache: retraining after new data embeds only the new text', async () => {
    const db = makeDb();
    // fp32: dynamic quantization scales by the whole batch's range, so q8 vectors vary slightly with the batch.
    const ref = encoderRef(false);
    const trainable = encoderHeadClassifier({ encoder: ref, dim: 64, head: 'linear', labels: ['negative', 'neutral', 'positive'], seed: 3 }, TEXT_CLASSIFICATION, undefined, { db });
    try {
      const rows = ['@bob I love it http://t.co/x', 'so sad', 'the meeting'].map(row);
      const first = (await trainable.toInputs(rows, { training: true })) as tf.Tensor;
      expect(first.shape).toEqual([3, 64]);
      expect(await countEmbeddings(db, modelKey(ref))).toBe(3);
      // The cached vectors are those of the preprocessed texts (mentions → @user, links → http).
      const [direct] = await encodeTexts(ref, ['@user I love it http']);
      const cached = (await first.array()) as number[][];
      cached[0]!.forEach((v, i) => expect(v).toBeCloseTo(direct![i]!, 5));
      const rows2 = [...rows, row('a brand new text', 3)];
      const second = (await trainable.toInputs(rows2, { training: true })) as tf.Tensor;
      expect(await countEmbeddings(db, modelKey(ref))).toBe(4);
      tf.dispose([first, second]);
    } finally {
      trainable.dispose();
    }
  });

  it('says when the head width does not match the encoder', async () => {
    const db = makeDb();
    const trainable = encoderHeadClassifier({ encoder: encoderRef(true), dim: 32, head: 'linear', labels: ['a', 'b'], seed: 1 }, TEXT_CLASSIFICATION, undefined, { db });
    await expect(trainable.toInputs([row('x', 0)], { training: false })).rejects.toThrow(/64-wide vectors but the head expects 32: set dim to 64/);
    trainable.dispose();
  });
});
