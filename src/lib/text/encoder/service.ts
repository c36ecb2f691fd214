import { preprocessTweet } from '$lib/text/preprocess';
import type { ProgressCallback } from '$lib/progress';
import { classifyTexts, encodeTexts } from './inference';
import type { DownloadProgress } from './runtime';
import { describeSource, modelKey, type ModelRef, type Pooling } from './source';

export type TextModelRole = 'classifier' | 'encoder';

/** What a prepared text model reports: its identity and one output on the sample text. */
export interface TextModelInfo {
  key: string;
  description: string;
  role: TextModelRole;
  /** The preprocessed sample it ran on. */
  sample: string;
  /** Classifier: its labels and the sample's probabilities. */
  labels?: string[];
  probabilities?: number[];
  /** Encoder: the width of its pooled vectors (the `dim` of a head model). */
  dim?: number;
}

/** Turns per-file download progress into the workers' progress events (one line per file). */
export function downloadProgress(onProgress: ProgressCallback) {
  return ({ file, loaded, total }: DownloadProgress) => onProgress({ kind: 'progress', label: `downloading ${file}`, done: loaded, total: total || loaded });
}

/**
 * Loads a text model the way serving and training will (same source, same cache), runs it on one
 * sample and says what it got; the inference worker's `prepareTextModel`.
 */
export async function prepareTextModel(ref: ModelRef, role: TextModelRole, sample: string, onProgress: ProgressCallback): Promise<TextModelInfo> {
  const text = preprocessTweet(sample);
  const base = { key: modelKey(ref), description: describeSource(ref), role, sample: text };
  const onDownload = downloadProgress(onProgress);
  try {
    if (role === 'classifier') {
      const { labels, probabilities } = await classifyTexts(ref, [text], onDownload);
      onProgress({ kind: 'done' });
      return { ...base, labels, probabilities: Array.from(probabilities[0]!) };
    }
    const pooling: Pooling = 'pooling' in ref && (ref as { pooling?: Pooling }).pooling === 'cls' ? 'cls' : 'mean';
    const [vector] = await encodeTexts({ ...ref, pooling }, [text], onDownload);
    onProgress({ kind: 'done' });
    return { ...base, dim: vector!.length };
  } catch (error) {
    onProgress({ kind: 'failed', reason: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}
