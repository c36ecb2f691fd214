import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoupeConv2D, LoupeDepthwiseConv2D } from '../../../models/backbones/conv';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const x = () => tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 1);

const maxAbsDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** A one-layer model around `layer`, with the kernel set to fixed values. */
function wrap(layer: tf.layers.Layer): tf.LayersModel {
  const input = tf.input({ shape: [9, 9, 3] });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  model.setWeights(model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, 'float32', 10 + i)));
  return model;
}

describe('LoupeConv2D', () => {
  it.each([
    { kernelSize: 3, strides: 2, padding: 'valid' as const, useBias: false },
    { kernelSize: 3, strides: 1, padding: 'same' as const, useBias: false },
    { kernelSize: 1, strides: 1, padding: 'valid' as const, useBias: true }, // the base class's path
  ])('gives the output and gradients of tfjs Conv2D ($kernelSize×$kernelSize, stride $strides, $padding, bias $useBias)', async (args) => {
    const ours = wrap(new LoupeConv2D({ filters: 4, ...args }));
    const theirs = wrap(tf.layers.conv2d({ filters: 4, ...args }));
    const input = x();
    for (const model of [ours, theirs]) expect(model.getWeights().length).toBe(args.useBias ? 2 : 1);
    const run = async (model: tf.LayersModel) => {
      const y = model.predict(input) as tf.Tensor;
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.square(model.apply(t) as tf.Tensor)))(input);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(input) as tf.Tensor)) as tf.Scalar, model.trainableWeights.map((w) => w.read() as tf.Variable));
      return [await y.data(), await dx.data(), ...(await Promise.all(Object.values(grads).map((g) => g.data())))];
    };
    const [a, b] = [await run(ours), await run(theirs)];
    expect(a.map((t) => Array.from(t))).toEqual(b.map((t) => Array.from(t)));
  });

  it("computes no gradient nobody asked for: the image's at the stem, a frozen layer's filter", async () => {
    const images = x();
    /** Gradient kernels of one step of stem → 1×1 conv, with the stem trainable or frozen. */
    const backpropCalls = async (make: (args: ConstructorParameters<typeof LoupeConv2D>[0]) => tf.layers.Layer, stemTrainable: boolean) => {
      const input = tf.input({ shape: [9, 9, 3] });
      const stem = make({ filters: 4, kernelSize: 3, useBias: false, trainable: stemTrainable });
      const model = tf.model({ inputs: input, outputs: make({ filters: 2, kernelSize: 1, useBias: false }).apply(stem.apply(input)) as tf.SymbolicTensor });
      const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const step = await tf.profile(() => tf.variableGrads(() => tf.sum(model.apply(images) as tf.Tensor) as tf.Scalar, weights).grads);
      const calls = (name: string) => step.kernels.filter((k) => k.name === name).length;
      return { filter: calls('Conv2DBackpropFilter'), input: calls('Conv2DBackpropInput') };
    };
    const ours = (args: ConstructorParameters<typeof LoupeConv2D>[0]) => new LoupeConv2D(args);
    const theirs = (args: ConstructorParameters<typeof LoupeConv2D>[0]) => tf.layers.conv2d(args);
    // Into the stem's output, never into the images; no filter gradient for a frozen stem (nor the input
    // gradient that would only feed it).
    await expect(backpropCalls(ours, true)).resolves.toEqual({ filter: 2, input: 1 });
    await expect(backpropCalls(ours, false)).resolves.toEqual({ filter: 1, input: 0 });
    // tfjs's own Conv2D computes both gradients of a layer whenever one is needed.
    await expect(backpropCalls(theirs, true)).resolves.toEqual({ filter: 2, input: 2 });
    await expect(backpropCalls(theirs, false)).resolves.toEqual({ filter: 1, input: 1 });
  });

  it.each([
    { kind: 'Conv2D', kernelSize: 3, strides: 2, symmetricPadding: 1, useBias: false },
    { kind: 'Conv2D', kernelSize: 3, strides: 2, symmetricPadding: 1, useBias: true }, // the base class's path on a padded copy
    { kind: 'DepthwiseConv2D', kernelSize: 3, strides: 2, symmetricPadding: 1, useBias: false },
    { kind: 'DepthwiseConv2D', kernelSize: 5, strides: 2, symmetricPadding: 2, useBias: true },
  ])('$kind with symmetricPadding $symmetricPadding gives the output and gradients of ZeroPadding2D then a valid conv ($kernelSize×$kernelSize, bias $useBias)', async ({ kind, symmetricPadding, ...args }) => {
    const make = (extra: object) =>
      kind === 'Conv2D' ? new LoupeConv2D({ filters: 4, padding: 'valid', ...args, ...extra }) : new LoupeDepthwiseConv2D({ padding: 'valid', ...args, ...extra });
    const ours = wrap(make({ symmetricPadding }));
    const input = tf.input({ shape: [9, 9, 3] });
    const padded = tf.layers.zeroPadding2d({ padding: symmetricPadding }).apply(input) as tf.SymbolicTensor;
    const theirs = tf.model({ inputs: input, outputs: make({}).apply(padded) as tf.SymbolicTensor });
    theirs.setWeights(ours.getWeights());
    expect(ours.outputs[0]!.shape).toEqual(theirs.outputs[0]!.shape);
    const images = x();
    const run = async (model: tf.LayersModel) => {
      const y = model.predict(images) as tf.Tensor;
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.square(model.apply(t) as tf.Tensor)))(images);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(images) as tf.Tensor)) as tf.Scalar, model.trainableWeights.map((w) => w.read() as tf.Variable));
      return [y, dx, ...Object.values(grads)];
    };
    const [a, b] = [await run(ours), await run(theirs)];
    expect(a.map((t) => t.shape)).toEqual(b.map((t) => t.shape));
    for (let i = 0; i < a.length; i++) expect(maxAbsDifference(await a[i]!.data(), await b[i]!.data()), `output ${i}`).toBeLessThan(1e-4);
  });

  it('keeps symmetricPadding through saving and refuses it with a padding of its own', async () => {
    const model = wrap(new LoupeDepthwiseConv2D({ kernelSize: 3, strides: 2, symmetricPadding: 1, name: 'dw' }));
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"DepthwiseConv2D"');
    const loaded = await tf.models.modelFromJSON(JSON.parse(json) as Parameters<typeof tf.models.modelFromJSON>[0]);
    expect(loaded.getLayer('dw')).toBeInstanceOf(LoupeDepthwiseConv2D);
    expect(loaded.getLayer('dw').getConfig().symmetricPadding).toBe(1);
    expect(loaded.outputs[0]!.shape).toEqual([null, 5, 5, 3]);
    expect(() => new LoupeConv2D({ filters: 1, kernelSize: 3, padding: 'same', symmetricPadding: 1 })).toThrow(/symmetricPadding with padding 'valid', got 'same'/);
  });

  it("saves as tfjs's Conv2D and loads back into this class", async () => {
    const model = wrap(new LoupeConv2D({ filters: 4, kernelSize: 3, name: 'stem' }));
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"Conv2D"');
    const loaded = await tf.models.modelFromJSON(JSON.parse(json) as Parameters<typeof tf.models.modelFromJSON>[0]);
    expect(loaded.getLayer('stem')).toBeInstanceOf(LoupeConv2D);
  });
});
