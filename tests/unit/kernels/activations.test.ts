import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HardSigmoid, HardSwish, HARD_SWISH_KERNEL, LoupeReLU, RELU_GRAD_KERNEL } from '../../../models/backbones/activations';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { liveData, randomValues, startWasm } from './wasm';

beforeAll(async () => {
  await startWasm();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

/** The breakpoints of relu6(x + 3) and their float32 neighbours, extremes and specials, then random values. */
function inputs(size: number, seed: number): Float32Array {
  const edges = [-3, -3.0000002, -2.9999998, 3, 2.9999998, 3.0000002, 0, -0, 1e-30, -1e30, 1e30, Infinity, -Infinity, Number.NaN, 5.5, -7];
  const values = randomValues(size, seed, 0).map((v) => v * 8);
  values.set(edges.slice(0, size));
  return values;
}

/** Bit patterns, with every NaN as one pattern (tfjs does not promise a NaN's payload). */
function bits(values: Float32Array): number[] {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  return Array.from(values, (v, i) => (Number.isNaN(v) ? -1 : words[i]!));
}

/**
 * The one place the kernels differ from the composed ops on wasm: there tfjs-backend-wasm's Relu6 and Step
 * turn NaN into 0, so hard-sigmoid(NaN) and its gradient come out 0; the kernels keep NaN both ways, as the
 * cpu backend does (a diverged activation stays visible). Hard-swish is NaN either way (NaN · 0).
 */
function expectSameBits(fused: Float32Array, composed: Float32Array, x: Float32Array): void {
  const nan = x.map((v) => (Number.isNaN(v) ? 1 : 0));
  expect(bits(fused).filter((_, i) => !nan[i])).toEqual(bits(composed).filter((_, i) => !nan[i]));
  expect(Array.from(fused).filter((_, i) => nan[i]).every(Number.isNaN)).toBe(true);
}

/** The layer's output and the gradient of Σ output · w (w fixed, so every element's dy differs). */
async function forwardAndGradient(layer: tf.layers.Layer, x: Float32Array): Promise<{ y: Float32Array; dx: Float32Array }> {
  const input = tf.tensor1d(x);
  const weights = tf.tensor1d(randomValues(x.length, 99, 0));
  const y = layer.apply(input) as tf.Tensor;
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, weights)))(input);
  const result = { y: (await y.data()) as Float32Array, dx: (await dx.data()) as Float32Array };
  tf.dispose([input, weights, y, dx]);
  return result;
}

describe.each([
  { name: 'HardSwish', make: () => new HardSwish({}) },
  { name: 'HardSigmoid', make: () => new HardSigmoid({}) },
  { name: 'ReLU', make: () => new LoupeReLU({}) },
])('$name on wasm as one kernel each way', ({ make }) => {
  // Sizes around multiples of four: the SIMD loop takes whole fours, the scalar code the rest.
  it.each([1, 3, 4, 16, 37, 130])('gives the bits the composed ops give, forward and backward (%i values)', async (size) => {
    const x = inputs(size, size);
    registerWasmTrainingKernels({ simd: false }); // composed tfjs ops
    const composed = await forwardAndGradient(make(), x);
    registerWasmTrainingKernels(); // Loupe's kernels
    const before = liveData();
    const fused = await forwardAndGradient(make(), x);
    expect(liveData()).toEqual(before);
    expectSameBits(fused.y, composed.y, x);
    expectSameBits(fused.dx, composed.dx, x);
  });
});

describe('which way the activations run', () => {
  async function kernelsOfOneStep(): Promise<string[]> {
    const layer = new HardSwish({});
    const x = tf.tensor1d(inputs(64, 5));
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x));
    x.dispose();
    return info.kernels.map((k) => k.name);
  }

  it('takes one kernel each way where registered, and the composed ops otherwise', async () => {
    registerWasmTrainingKernels();
    const fused = await kernelsOfOneStep();
    expect(fused.filter((k) => k.startsWith('LoupeHardSwish'))).toEqual([HARD_SWISH_KERNEL, `${HARD_SWISH_KERNEL}Grad`]);
    expect(fused).not.toContain('Relu6');
    registerWasmTrainingKernels({ simd: false });
    const composed = await kernelsOfOneStep();
    expect(composed).toContain('Relu6');
    expect(composed.some((k) => k.startsWith('Loupe'))).toBe(false);
  });

  it("takes ReLU's gradient as one kernel where registered, instead of Step, Cast and Multiply", async () => {
    const x = tf.tensor1d(inputs(64, 6));
    const kernels = async () => (await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(new LoupeReLU({}).apply(t) as tf.Tensor))(x))).kernels.map((k) => k.name);
    registerWasmTrainingKernels();
    const fused = await kernels();
    expect(fused).toContain(RELU_GRAD_KERNEL);
    expect(fused).not.toContain('Step');
    registerWasmTrainingKernels({ simd: false });
    expect(await kernels()).toContain('Step');
    x.dispose();
  });

  it("saves as tfjs's ReLU and loads back into LoupeReLU, a capped ReLU still capped", async () => {
    const input = tf.input({ shape: [3] });
    const model = tf.model({ inputs: input, outputs: new LoupeReLU({ name: 'relu', maxValue: 6 }).apply(input) as tf.SymbolicTensor });
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"ReLU"');
    const loaded = await tf.models.modelFromJSON(JSON.parse(json) as Parameters<typeof tf.models.modelFromJSON>[0]);
    expect(loaded.getLayer('relu')).toBeInstanceOf(LoupeReLU);
    const y = loaded.predict(tf.tensor2d([[-1, 3, 9]])) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([0, 3, 6]);
    tf.dispose([y, loaded, model] as never);
  });

  it('int32 input takes the composed ops', async () => {
    registerWasmTrainingKernels();
    const y = new HardSwish({}).apply(tf.tensor1d([-4, 0, 2, 9], 'int32')) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([-0, 0, Math.fround(2 * Math.fround(5 / 6)), 9]);
    y.dispose();
  });
});
