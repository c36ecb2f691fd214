import { fileURLToPath } from 'node:url';
import type { EncoderRef, ModelRef } from '$lib/text/encoder/source';

/** The tiny RoBERTa fixtures (scripts/fixtures/make_tiny_roberta.py), loaded from disk like a picked folder. */
export const CLASSIFIER_PATH = fileURLToPath(new URL('../../fixtures/tiny-roberta', import.meta.url));
export const ENCODER_PATH = fileURLToPath(new URL('../../fixtures/tiny-roberta-encoder', import.meta.url));

export const classifierRef = (quantized = true): ModelRef => ({ source: { kind: 'path', path: CLASSIFIER_PATH }, quantized });
export const encoderRef = (quantized = true, pooling: EncoderRef['pooling'] = 'mean'): EncoderRef => ({
  source: { kind: 'path', path: ENCODER_PATH },
  quantized,
  pooling,
});

/** A small labelled set whose label is carried by a sentiment word, in a few templates. */
export function labelledSentences(perClass: number, offset = 0): { text: string; label: string }[] {
  const words: Record<string, string[]> = {
    negative: ['hate', 'terrible', 'awful', 'bad', 'angry', 'sad', 'worst', 'disappointed'],
    neutral: ['meeting', 'train', 'platform', 'news', 'city', 'noon', 'phone', 'weather'],
    positive: ['love', 'great', 'awesome', 'amazing', 'best', 'happy', 'beautiful', 'nice'],
  };
  const templates = ['I {w} it', 'the {w} one today', 'so {w}!', '@bob {w} http://x.co/1', 'what a {w} day', 'it is {w}'];
  return Object.entries(words).flatMap(([label, list]) =>
    Array.from({ length: perClass }, (_, j) => {
      const i = j + offset;
      return { label, text: templates[i % templates.length]!.replace('{w}', list[(i * 5 + Math.floor(i / templates.length)) % list.length]!) };
    }),
  );
}
