import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAM_STEP_KERNEL,
  adamStepAvailable,
  adamStepTakes,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../../../src/lib/backends/wasm-kernels/index';
import { adam } from '../../../src/lib/training/adam';
import { latestCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../../src/lib/training/checkpoints';
import { makeDb } from '../factories';
import { liveData, randomValues, startWasm } from '../kernels/wasm';

// The fused Adam step (one `LoupeAdamStep` kernel per variable) against ConstantsAdam's op-by-op path on
// the same wasm backend. Both run the same float32 operations in the same order with IEEE rounding (no
// fused multiply-add, no flush of subnormals in wasm), so the results must be bit-identical: they are
// compared as float32 bit patterns, not within a tolerance.

beforeAll(async () => {
  await startWasm();
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

const LEARNING_RATE = 0.01;

/** Applies gradients with the fused kernel, or op by op (Loupe's kernels registered with `simd: false`). */
function apply(optimizer: tf.Optimizer, grads: tf.NamedTensorMap, fused: boolean): void {
  if (!fused) registerWasmTrainingKernels({ simd: false });
  try {
    expect(adamStepAvailable()).toBe(fused);
    optimizer.applyGradients(grads);
  } finally {
    registerWasmTrainingKernels();
  }
}

function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
}

/** The model's weights and the optimizer's state (step count, moments) as float32 bit patterns. */
async function snapshot(variables: tf.Variable[], optimizer: tf.Optimizer): Promise<number[][]> {
  const state = await optimizer.getWeights();
  const result = [...variables.map(bits), ...state.map((s) => bits(s.tensor))];
  tf.dispose(state.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable))); // the fresh step count
  return result;
}

// -------------------------------------------------------------------------------------------------
// Odd sizes: a scalar, sizes with count % 4 of 1, 2, 3, an empty variable, and groups of four.

const SHAPES: number[][] = [[], [1], [3], [2, 3], [7], [4, 4, 2], [33], [0], [5, 13]];

function oddVariables(): tf.Variable[] {
  return SHAPES.map((shape, i) => tf.variable(tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), 100 + i, 0), shape)));
}

/** Seeded gradients for step `step`, the same for both sets of variables; large ones too, to stress √v. */
function oddGradients(variables: tf.Variable[], step: number): tf.NamedTensorMap {
  return Object.fromEntries(
    variables.map((v, i) => {
      const values = randomValues(v.size, 1000 * step + i).map((x, j) => (j % 5 === 0 ? x * 1e3 : j % 7 === 0 ? x * 1e-6 : x));
      return [v.name, tf.tensor(values, v.shape)];
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// A small conv + dense model (conv kernel 3·3·3·5 = 135 floats, biases of 5 and 3).

function convNet(seed: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 5, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: tf.initializers.constant({ value: 0.1 }) }));
  return model;
}

const batch = () => ({ x: tf.tensor(randomValues(4 * 6 * 6 * 3, 7, 0), [4, 6, 6, 3]), y: tf.tensor(randomValues(4 * 3, 8, 0), [4, 3]) });

function variablesOf(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** One training step; the gradients are computed under the default kernels for both paths alike. */
function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, data: { x: tf.Tensor; y: tf.Tensor }, fused: boolean): void {
  const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(data.y, model.apply(data.x) as tf.Tensor) as tf.Scalar, variablesOf(model));
  apply(optimizer, grads, fused);
  tf.dispose([value, ...Object.values(grads)]);
}

describe('the fused Adam step on the wasm backend', () => {
  it('gives bit-identical variables and optimizer state to the op-by-op path, for odd sizes and a scalar', async () => {
    const [fusedVars, plainVars] = [oddVariables(), oddVariables()];
    const [fusedOptimizer, plainOptimizer] = [adam(LEARNING_RATE), adam(LEARNING_RATE)];
    for (let step = 0; step < 6; step++) {
      const [a, b] = [oddGradients(fusedVars, step), oddGradients(plainVars, step)];
      apply(fusedOptimizer, a, true);
      apply(plainOptimizer, b, false);
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    }
    const [fused, plain] = [await snapshot(fusedVars, fusedOptimizer), await snapshot(plainVars, plainOptimizer)];
    expect(fused.length).toBe(SHAPES.length * 3 + 1);
    expect(fused).toEqual(plain);
    // The variables moved (a kernel that wrote nothing would also "match" if both paths were broken alike).
    const start = oddVariables();
    expect(bits(fusedVars[0]!)).not.toEqual(bits(start[0]!));
    expect(bits(fusedVars[6]!)).not.toEqual(bits(start[6]!));
    tf.dispose([...fusedVars, ...plainVars, ...start]);
    [fusedOptimizer, plainOptimizer].forEach((o) => o.dispose());
  });

  it('trains a conv + dense model with the same weights and state as the op-by-op path, step after step', async () => {
    const data = batch();
    const [fusedModel, plainModel] = [convNet(3), convNet(3)];
    const [fusedOptimizer, plainOptimizer] = [adam(LEARNING_RATE), adam(LEARNING_RATE)];
    for (let step = 0; step < 5; step++) {
      trainStep(fusedModel, fusedOptimizer, data, true);
      trainStep(plainModel, plainOptimizer, data, false);
      expect(await snapshot(variablesOf(fusedModel), fusedOptimizer)).toEqual(await snapshot(variablesOf(plainModel), plainOptimizer));
    }
    tf.dispose([data.x, data.y]);
    [fusedModel, plainModel, fusedOptimizer, plainOptimizer].forEach((d) => d.dispose());
  });

  it('runs one fused kernel call per variable, and ~14 op by op', async () => {
    const data = batch();
    const model = convNet(5);
    const optimizer = adam(LEARNING_RATE);
    trainStep(model, optimizer, data, true); // creates the moments
    const { grads, value } = tf.variableGrads(() => tf.losses.meanSquaredError(data.y, model.apply(data.x) as tf.Tensor) as tf.Scalar, variablesOf(model));
    const kernelsOf = async (fused: boolean) => (await tf.profile(() => apply(optimizer, grads, fused))).kernels.map((k) => k.name);
    const fused = await kernelsOf(true);
    const plain = await kernelsOf(false);
    const count = Object.keys(grads).length;
    expect(count).toBe(4);
    expect(fused.filter((name) => name === ADAM_STEP_KERNEL)).toHaveLength(count);
    // Besides: 1 − β₁ᵗ and 1 − β₂ᵗ (Sub), then β₁ᵗ·β₁ and β₂ᵗ·β₂ (Mul), once per step.
    expect(fused).toHaveLength(count + 4);
    expect(plain).not.toContain(ADAM_STEP_KERNEL);
    expect(plain).toHaveLength(14 * count + 4);
    tf.dispose([value, ...Object.values(grads), data.x, data.y]);
    model.dispose();
    optimizer.dispose();
  });

  it('leaks no tensor and no wasm buffer over steps', () => {
    const data = batch();
    const model = convNet(9);
    const optimizer = adam(LEARNING_RATE);
    trainStep(model, optimizer, data, true);
    const before = liveData();
    for (let step = 0; step < 3; step++) trainStep(model, optimizer, data, true);
    expect(liveData()).toEqual(before);
    tf.dispose([data.x, data.y]);
    model.dispose();
    optimizer.dispose();
  });

  it('continues identically from a checkpoint saved on the fused path', async () => {
    const db = makeDb();
    const data = batch();
    const model = convNet(11);
    const optimizer = adam(LEARNING_RATE);
    for (let step = 0; step < 3; step++) trainStep(model, optimizer, data, true);
    await saveCheckpoint(db, 'run-adam', 3, model, optimizer, { history: [] });
    for (let step = 0; step < 3; step++) trainStep(model, optimizer, data, true);

    const restored = convNet(12); // other initial weights: the checkpoint must replace them
    const restoredOptimizer = adam(LEARNING_RATE);
    await restoreCheckpoint((await latestCheckpoint(db, 'run-adam'))!, restored, restoredOptimizer);
    for (let step = 0; step < 3; step++) trainStep(restored, restoredOptimizer, data, true);
    expect(await snapshot(variablesOf(restored), restoredOptimizer)).toEqual(await snapshot(variablesOf(model), optimizer));

    tf.dispose([data.x, data.y]);
    [model, optimizer, restored, restoredOptimizer].forEach((d) => d.dispose());
    db.close();
  });

  it('is registered with the SIMD kernels only, and removed with them', () => {
    expect(registerWasmTrainingKernels()).toContain(ADAM_STEP_KERNEL);
    expect(adamStepAvailable()).toBe(true);
    expect(registerWasmTrainingKernels({ simd: false })).not.toContain(ADAM_STEP_KERNEL);
    expect(tf.getKernel(ADAM_STEP_KERNEL, 'wasm')).toBeUndefined();
    expect(registerWasmTrainingKernels({ mode: 'cpu-routed' })).not.toContain(ADAM_STEP_KERNEL);
    unregisterWasmTrainingKernels();
    expect(tf.getKernel(ADAM_STEP_KERNEL, 'wasm')).toBeUndefined();
    expect(adamStepAvailable()).toBe(false);
    registerWasmTrainingKernels();
    expect(adamStepAvailable()).toBe(true);
  });

  it('takes float32 tensors of one size only, and says so when called with others', () => {
    const f = tf.zeros([5]);
    const i = tf.zeros([5], 'int32');
    const short = tf.zeros([4]);
    expect(adamStepTakes(f, f, f, f)).toBe(true);
    expect(adamStepTakes(f, f, f, i)).toBe(false);
    expect(adamStepTakes(f, f, f, short)).toBe(false);
    const attrs = { beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, oneMinusAccBeta1: 0.1, oneMinusAccBeta2: 0.001, epsilon: 1e-7, negativeLearningRate: -0.01 };
    expect(() => tf.engine().runKernel(ADAM_STEP_KERNEL, { value: f, m: f, v: f, gradient: i }, attrs)).toThrow(/float32 of one size; got .*int32\[5\]/);
    tf.dispose([f, i, short]);
  });
});
