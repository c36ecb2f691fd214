import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveToBlobs } from '../../../models/io';
import { savedModelLabels } from '../../../src/lib/tasks/labels';
import { createTrainable, TASKS } from '../../../src/lib/tasks/registry';
import { exampleInputOf, modelInputShapes, signatureOf } from '../../../src/lib/tasks/signature';
import type { TrainableModel } from '../../../src/lib/tasks/types';

/** model.json text of a freshly built trainable model, as the registry receives it. */
async function savedJson(trainable: TrainableModel): Promise<string> {
  try {
    return (await saveToBlobs(trainable.model)).modelJson;
  } finally {
    trainable.dispose();
  }
}

const image = (name: string, size: number, channels = 3) => ({ name, type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, size, size, channels] } });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('signatures from the saved model', () => {
  it('a 64 px coin model: the REST columns as strings, then front and back tensors of 64 px, and the year', async () => {
    const json = await savedJson(
      createTrainable('coin-year', { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 64 }, { seed: 1, trainingTargets: [1900, 1950, 2000] }),
    );
    expect(modelInputShapes(json)).toEqual([
      [-1, 64, 64, 3],
      [-1, 64, 64, 3],
    ]);
    expect(signatureOf(TASKS['coin-year'], json, savedModelLabels(json))).toEqual({
      inputs: [{ name: 'front_image_base64', type: 'string' }, { name: 'back_image_base64', type: 'string' }, image('front', 64), image('back', 64)],
      outputs: [{ name: 'year', type: 'double' }],
    });
  });

  it('a shared-backbone coin model names its own two inputs, not the nested backbone\'s', async () => {
    const json = await savedJson(
      createTrainable('coin-year', { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 96 }, { seed: 1, trainingTargets: [1900, 2000] }),
    );
    expect(signatureOf(TASKS['coin-year'], json).inputs.slice(2)).toEqual([image('front', 96), image('back', 96)]);
  });

  it('image classifiers: one image tensor at the trained size and channels, probabilities over the dataset\'s classes', async () => {
    const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress'];
    const grey = await savedJson(createTrainable('image-classification', { architecture: 'small-cnn', inputSize: 28, channels: 1, filters: [4], dense: 8 }, { seed: 1, labels: classes }));
    expect(savedModelLabels(grey)).toEqual(classes);
    expect(signatureOf(TASKS['image-classification'], grey, savedModelLabels(grey))).toEqual({
      inputs: [{ name: 'image_base64', type: 'string' }, image('image', 28, 1)],
      outputs: [
        { name: 'label', type: 'string' },
        { name: 'score', type: 'double' },
        { name: 'probabilities', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } },
      ],
    });
    const backbone = await savedJson(createTrainable('image-classification', { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32 }, { seed: 1 }));
    const signature = signatureOf(TASKS['image-classification'], backbone, savedModelLabels(backbone));
    expect(signature.inputs).toEqual([{ name: 'image_base64', type: 'string' }, image('image', 32)]);
    // Without a dataset's classes the model takes the car-damage preset's.
    expect(signature.outputs?.at(-1)).toEqual({ name: 'probabilities', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 3] } });
  });

  it('text classifiers: the text column only (their tensors are features, not a request field)', async () => {
    const json = await savedJson(createTrainable('text-classification', { architecture: 'fasttext', dim: 4, buckets: 64 }, { seed: 1, labels: ['negative', 'positive'] }));
    expect(signatureOf(TASKS['text-classification'], json, savedModelLabels(json))).toEqual({
      inputs: [{ name: 'text', type: 'string' }],
      outputs: [
        { name: 'label', type: 'string' },
        { name: 'score', type: 'double' },
        { name: 'probabilities', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 2] } },
      ],
    });
  });

  it('falls back to the REST columns when model.json is unreadable or names no inputs', () => {
    expect(modelInputShapes('not json')).toEqual([]);
    expect(modelInputShapes(JSON.stringify({ modelTopology: { class_name: 'Sequential', config: { layers: [] } } }))).toEqual([]);
    for (const json of ['', '{', JSON.stringify({ modelTopology: { config: { layers: [{ class_name: 'Dense', config: { name: 'd' } }] } } })]) {
      expect(signatureOf(TASKS['coin-year'], json).inputs).toEqual([
        { name: 'front_image_base64', type: 'string' },
        { name: 'back_image_base64', type: 'string' },
      ]);
    }
  });

  it('gives each task an example request with exactly its REST columns', () => {
    for (const task of Object.values(TASKS)) {
      const example = exampleInputOf(task);
      expect(example.inputs).toHaveLength(1);
      expect(Object.keys(example.inputs[0]!)).toEqual(task.serving.fields.map((f) => f.name));
    }
  });
});
