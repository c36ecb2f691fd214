import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mixSeed } from '../../../src/lib/training/dropout-seeds';
import { trainLoop, type BatchSource } from '../../../src/lib/training/loop';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const BUILT_SEED = 7;

/** Ones through a dense layer of ones, then dropout: the model's output is the mask (0 where dropped). */
function maskingModel(): tf.LayersModel {
  const input = tf.input({ shape: [6] });
  const dense = tf.layers.dense({ units: 6, kernelInitializer: 'ones', useBias: false }).apply(input) as tf.SymbolicTensor;
  const output = tf.layers.dropout({ rate: 0.5, seed: BUILT_SEED, name: 'dropout' }).apply(dense) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

const ones: BatchSource = async function* () {
  for (let i = 0; i < 3; i++) yield { xs: tf.ones([4, 6]), ys: tf.zeros([4, 6]), size: 4 };
};

/** Trains `epochs` epochs of three identical batches and returns each forward pass's dropout mask. */
async function masksOfRun(epochs: number, microBatch?: number): Promise<{ masks: string[]; model: tf.LayersModel }> {
  const model = maskingModel();
  const masks: string[] = [];
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) => {
    masks.push(Array.from(yPred.dataSync(), (v) => (v === 0 ? '0' : '1')).join(''));
    return tf.losses.meanSquaredError(yTrue, yPred) as tf.Scalar;
  };
  const optimizer = tf.train.sgd(1e-4);
  await trainLoop({ model, optimizer, loss, train: ones, batchesPerEpoch: 3, epochs, validate: async () => ({}), microBatch });
  optimizer.dispose();
  return { masks, model };
}

describe('dropout during training', () => {
  it('draws a new mask at every step, not one mask per batch position for the whole run', async () => {
    const before = tf.memory().numTensors;
    const { masks, model } = await masksOfRun(2);
    expect(masks).toHaveLength(6);
    // Six steps of 24 units at rate 0.5: a repeated mask is what a fixed seed gives.
    expect(new Set(masks).size).toBe(6);
    for (const mask of masks) expect(mask).toMatch(/0.*1|1.*0/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('draws the same masks in the same run again, and leaves the layer with the seed it was built with', async () => {
    const first = await masksOfRun(2);
    const second = await masksOfRun(2);
    expect(second.masks).toEqual(first.masks);
    expect(first.model.getLayer('dropout').getConfig().seed).toBe(BUILT_SEED);
    first.model.dispose();
    second.model.dispose();
  });

  it('gives each micro-batch of a step its own mask', async () => {
    const { masks, model } = await masksOfRun(1, 2);
    expect(masks).toHaveLength(6); // three steps of two slices
    for (let step = 0; step < 3; step++) expect(masks[2 * step]).not.toBe(masks[2 * step + 1]);
    model.dispose();
  });

  it('seeds neighbouring steps unrelatedly', () => {
    const seeds = new Set<number>();
    for (let epoch = 1; epoch <= 5; epoch++) for (let batch = 0; batch < 50; batch++) seeds.add(mixSeed(BUILT_SEED, epoch, batch, 0));
    expect(seeds.size).toBe(250);
    expect(mixSeed(1, 2, 3, 0)).not.toBe(mixSeed(1, 3, 2, 0));
  });
});
