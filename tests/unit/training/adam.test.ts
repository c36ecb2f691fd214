import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adam } from '../../../src/lib/training/adam';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function net(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return model;
}

const xs = () => tf.tensor2d([[1, 2, 3], [-1, 0.5, 2], [0, -2, 1], [3, 1, -1]]);
const ys = () => tf.tensor2d([[1], [0], [-1], [2]]);

function step(model: tf.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): void {
  optimizer.minimize(() => tf.losses.meanSquaredError(y, model.predict(x) as tf.Tensor) as tf.Scalar)?.dispose();
}

async function values(tensors: tf.Tensor[]): Promise<number[][]> {
  return Promise.all(tensors.map(async (t) => Array.from(await t.data())));
}

/** Tensors created from JavaScript values while `run` runs (each an upload on a GPU backend). */
function writesDuring(run: () => void): number {
  const backend = tf.backend();
  const write = backend.write;
  let writes = 0;
  backend.write = (...args: Parameters<typeof write>) => {
    writes++;
    return write.apply(backend, args);
  };
  try {
    run();
  } finally {
    backend.write = write;
  }
  return writes;
}

describe("Adam with its constants made once", () => {
  it("updates weights exactly as tfjs's Adam, step after step", async () => {
    const [x, y] = [xs(), ys()];
    const [ours, theirs] = [net(), net()];
    const [ourOptimizer, theirOptimizer] = [adam(0.05), tf.train.adam(0.05)];
    for (let i = 0; i < 5; i++) {
      step(ours, ourOptimizer, x, y);
      step(theirs, theirOptimizer, x, y);
    }
    expect(await values(ours.getWeights())).toEqual(await values(theirs.getWeights()));
    tf.dispose([x, y]);
    [ours, theirs, ourOptimizer, theirOptimizer].forEach((d) => d.dispose());
  });

  it("keeps tfjs's optimizer state, so checkpoints move between the two", async () => {
    const [x, y] = [xs(), ys()];
    const [a, b] = [net(), net()];
    const theirs = tf.train.adam(0.05);
    step(a, theirs, x, y);
    step(b, tf.train.adam(0.05), x, y); // same start as a
    const ours = adam(0.05);
    await ours.setWeights(await theirs.getWeights()); // resume tfjs's state in ours
    step(a, theirs, x, y);
    step(b, ours, x, y);
    expect((await ours.getWeights()).map((w) => w.name)).toEqual((await theirs.getWeights()).map((w) => w.name));
    expect(await values(b.getWeights())).toEqual(await values(a.getWeights()));
    tf.dispose([x, y]);
    [a, b, theirs, ours].forEach((d) => d.dispose());
  });

  it('continues bit for bit after its state is saved and restored into a fresh optimizer', async () => {
    const [x, y] = [xs(), ys()];
    const [whole, resumed] = [net(), net()];
    const [first, later] = [adam(0.05), adam(0.05)];
    // After 5 steps tfjs's own restore, β₂ᵗ = pow(0.999, 6), is one float32 ulp off the product of 6 factors.
    for (let i = 0; i < 5; i++) step(whole, first, x, y);
    resumed.setWeights(whole.getWeights());
    const state = await first.getWeights();
    await later.setWeights(state);
    tf.dispose(state.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
    for (let i = 0; i < 3; i++) {
      step(whole, first, x, y);
      step(resumed, later, x, y);
    }
    expect(await values(resumed.getWeights())).toEqual(await values(whole.getWeights()));
    tf.dispose([x, y]);
    [whole, resumed, first, later].forEach((d) => d.dispose());
  });

  it('writes no per-variable constants at each step, and leaks no tensor', () => {
    const [x, y] = [xs(), ys()];
    const [ours, theirs] = [net(), net()];
    const [ourOptimizer, theirOptimizer] = [adam(0.05), tf.train.adam(0.05)];
    step(ours, ourOptimizer, x, y);
    step(theirs, theirOptimizer, x, y);
    const before = tf.memory().numTensors;
    const ourWrites = writesDuring(() => step(ours, ourOptimizer, x, y));
    const theirWrites = writesDuring(() => step(theirs, theirOptimizer, x, y));
    // Per variable (4): β₁, 1−β₁, β₂, 1−β₂, ε, −lr; per step: the 1 of 1 − βᵗ twice, β₁ and β₂ for βᵗ.
    expect(theirWrites - ourWrites).toBe(4 * 6 + 4);
    expect(tf.memory().numTensors).toBe(before);
    ourOptimizer.dispose();
    expect(tf.memory().numTensors).toBe(before - 7 - 2 * 4 - 2); // its constants, moments and β₁ᵗ, β₂ᵗ are gone
    tf.dispose([x, y]);
    [ours, theirs, theirOptimizer].forEach((d) => d.dispose());
  });
});
