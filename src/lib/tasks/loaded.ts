import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import { MissingInputError } from './errors';
import { imageKeysOf } from './inputs';
import type { ImageInput, ImageType, Prediction, ServingInput, TaskDefinition, TrainableModel } from './types';

export { loadTrainable, UnknownModelError } from './registry';

/** A served request as the sample row the task plug-in reads (its inputs only, no label). */
export function inputToRow(input: ServingInput, index: number): SampleRow {
  const base = { id: `request-${index}`, datasetId: '', split: 'unassigned' as const, label: '', hash: '', path: `inputs[${index}]` };
  if ('text' in input) return { ...base, text: input.text };
  const images = imageKeysOf(input).map((key) => (input as Record<typeof key, ImageInput>)[key]);
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

/**
 * A stored sample as the request that would serve it (its images' bytes, or its text): what a model is
 * fed when its predictions are measured the way serving makes them.
 * @throws MissingInputError naming the sample and the missing input
 */
export async function sampleToInput(task: TaskDefinition, sample: SampleRow): Promise<ServingInput> {
  const image = async (index: number): Promise<ImageInput> => {
    const blob = sample.blobs?.[index];
    const field = task.serving.fields.filter((f) => f.kind === 'image')[index];
    if (!blob) throw new MissingInputError(`sample ${sample.path} has no ${field?.label ?? 'image'} image`);
    return { bytes: new Uint8Array(await blob.arrayBuffer()), type: (blob.type || 'image/png') as ImageType };
  };
  switch (task.input) {
    case 'text':
      if (typeof sample.text !== 'string') throw new MissingInputError(`sample ${sample.path} has no text`);
      return { text: sample.text };
    case 'image':
      return { image: await image(0) };
    case 'image-pair':
      return { front: await image(0), back: await image(1) };
  }
}
