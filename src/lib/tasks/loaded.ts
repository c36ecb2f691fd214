import * as tf from '@tensorflow/tfjs';
import type { SampleRow, TaskName } from '$lib/db/types';
import type { ServingInput } from '$lib/serving/types';
import type { FastTextConfig } from '$models/text/fasttext';
import { loadFromBlobs } from '$models/io';
import { TASKS } from './registry';
import { lexiconClassifier, type LexiconClassifierConfig } from './lexicon-text';
import { fastTextClassifier } from './text-classification';
import { loadEncoderModel } from './text-encoder-models';
import type { Prediction, TrainableModel } from './types';
import { coinYearTrainable, damageTrainable, smallCnnTrainable } from './vision';
import '$models/text/embedding-bag'; // registers the custom layer before any model.json is read

export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/**
 * A saved model (model.json + weight shards, as registered or checkpointed) as a trainable model of
 * its task, read from the `loupe` metadata it carries.
 */
export async function loadTrainable(saved: { modelJson: string; shards: Blob[] }): Promise<TrainableModel> {
  const model = await loadFromBlobs(saved);
  const metadata = (model.getUserDefinedMetadata() as { loupe?: Record<string, unknown> } | undefined)?.loupe;
  switch (metadata?.task as TaskName | undefined) {
    case 'coin-year':
      return coinYearTrainable({ backbone: 'mobilenetv3-small' }, [], undefined, model);
    case 'car-damage':
      if (metadata?.architecture === 'small-cnn') return smallCnnTrainable({ labels: [] }, 'none', model);
      return damageTrainable({ backbone: 'mobilenetv3-small' }, undefined, model);
    case 'sentiment':
      if (metadata?.architecture === 'fasttext') return fastTextClassifier(metadata as unknown as FastTextConfig, TASKS.sentiment, model);
      if (metadata?.architecture === 'lexicon-fasttext') return lexiconClassifier(metadata as unknown as LexiconClassifierConfig, TASKS.sentiment, model);
      if (metadata) {
        const encoderModel = loadEncoderModel(metadata, model, TASKS.sentiment);
        if (encoderModel) return encoderModel;
      }
      break;
  }
  model.dispose();
  throw new UnknownModelError(`this model carries no Loupe task metadata (userDefinedMetadata.loupe): ${JSON.stringify(metadata)}`);
}

/** A served request as the sample row the task plug-in reads (its inputs only, no label). */
export function inputToRow(input: ServingInput, index: number): SampleRow {
  const base = { id: `request-${index}`, datasetId: '', split: 'unassigned' as const, label: '', hash: '', path: `inputs[${index}]` };
  if ('text' in input) return { ...base, text: input.text };
  const images = 'image' in input ? [input.image] : [input.front, input.back];
  return { ...base, blobs: images.map((image) => new Blob([image.bytes as BlobPart], { type: image.type })) };
}

/** Predictions for served inputs: preprocess, one forward pass, decode. */
export async function predictInputs(trainable: TrainableModel, inputs: ServingInput[]): Promise<Prediction[]> {
  if (inputs.length === 0) return [];
  const xs = await trainable.toInputs(inputs.map(inputToRow), { training: false });
  try {
    const output = tf.tidy(() => trainable.model.predict(xs) as tf.Tensor);
    try {
      return await trainable.decode(output);
    } finally {
      output.dispose();
    }
  } finally {
    tf.dispose(xs);
  }
}
