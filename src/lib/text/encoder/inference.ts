import type { Tensor } from '@xenova/transformers';
import { loadTextModel, type DownloadCallback } from './runtime';
import { ModelSourceError, type EncoderRef, type ModelRef, type Pooling } from './source';

/** Texts per forward pass: long enough to amortise a call, short enough for a small device. */
const BATCH = 16;

type Forward = (inputs: Record<string, Tensor>) => Promise<Record<string, Tensor>>;
type Tokenize = (texts: string[], options: { padding: boolean; truncation: boolean }) => Record<string, Tensor>;

export interface Classification {
  /** The model's labels in output order (`config.id2label`, lower-cased). */
  labels: string[];
  /** One softmax distribution per text, in `labels` order. */
  probabilities: Float32Array[];
}

/**
 * Runs a transformers.js sequence classifier on texts (already preprocessed) and returns its softmax
 * probabilities with its own label names.
 * @example const { labels, probabilities } = await classifyTexts(ref, ['I love it']);
 */
export async function classifyTexts(ref: ModelRef, texts: string[], onDownload?: DownloadCallback): Promise<Classification> {
  const { tokenizer, model, config } = await loadTextModel(ref, 'classifier', onDownload);
  const id2label = config.id2label ?? {};
  const classes = Object.keys(id2label).length;
  if (classes === 0) throw new ModelSourceError(`${ref.source.kind} model has no id2label in config.json: it is not a sequence classifier`);
  const labels = Array.from({ length: classes }, (_, i) => String(id2label[i] ?? `LABEL_${i}`).toLowerCase());
  const probabilities: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += BATCH) {
    const inputs = (tokenizer as unknown as Tokenize)(texts.slice(start, start + BATCH), { padding: true, truncation: true });
    const { logits } = await (model as unknown as Forward)(inputs);
    if (!logits || logits.dims.at(-1) !== classes) {
      throw new ModelSourceError(`the classifier's output is not logits [batch, ${classes}] (got ${logits ? `[${logits.dims.join(', ')}]` : 'no logits'})`);
    }
    const values = logits.data as Float32Array;
    for (let row = 0; row < logits.dims[0]!; row++) probabilities.push(softmax(values.subarray(row * classes, (row + 1) * classes)));
  }
  return { labels, probabilities };
}

/**
 * Pooled hidden states of a frozen encoder, one vector per text: the mean over real tokens (attention
 * mask), or the first token's (`<s>` / `[CLS]`).
 */
export async function encodeTexts(ref: EncoderRef, texts: string[], onDownload?: DownloadCallback): Promise<Float32Array[]> {
  const { tokenizer, model } = await loadTextModel(ref, 'encoder', onDownload);
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += BATCH) {
    const inputs = (tokenizer as unknown as Tokenize)(texts.slice(start, start + BATCH), { padding: true, truncation: true });
    const outputs = await (model as unknown as Forward)(inputs);
    const hidden = outputs.last_hidden_state;
    if (!hidden) {
      throw new ModelSourceError(
        `the encoder outputs ${Object.keys(outputs).join(', ')} but no last_hidden_state: it is a classification export. ` +
          'Choose a feature-extraction export as the encoder (docs/sentiment.md shows how to export one)',
      );
    }
    vectors.push(...pool(hidden, inputs.attention_mask!, ref.pooling));
  }
  return vectors;
}

function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

/** [batch, tokens, hidden] → one [hidden] vector per row, ignoring padding. */
export function pool(hidden: Tensor, mask: Tensor, pooling: Pooling): Float32Array[] {
  const [batch = 0, tokens = 0, size = 0] = hidden.dims;
  const values = hidden.data as Float32Array;
  const maskValues = mask.data as BigInt64Array | Int32Array | Float32Array;
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const vector = new Float32Array(size);
    if (pooling === 'cls') {
      vector.set(values.subarray(b * tokens * size, b * tokens * size + size));
    } else {
      let count = 0;
      for (let t = 0; t < tokens; t++) {
        if (Number(maskValues[b * tokens + t]) === 0) continue;
        count++;
        const offset = (b * tokens + t) * size;
        for (let h = 0; h < size; h++) vector[h]! += values[offset + h]!;
      }
      for (let h = 0; h < size; h++) vector[h]! /= Math.max(count, 1);
    }
    out.push(vector);
  }
  return out;
}
