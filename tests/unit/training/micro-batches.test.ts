import '@tensorflow/tfjs-backend-wasm'; // its kernels, which the training kernels wrap
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activationFloatsPerExample, microBatchFor, stepBytesPerExample } from '../../../src/lib/training/memory';
import { createModel } from '../../../models/index';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../../src/lib/backends/wasm-kernels/index';
import { minimizeInMicroBatches, type BatchLoss } from '../../../src/lib/training/micro-batches';
import { trainLoop, type BatchSource } from '../../../src/lib/training/loop';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Two image inputs through a small conv net without BatchNorm: every example is independent. */
function twoInputNet(seed: number): tf.LayersModel {
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const a = tf.input({ shape: [6, 6, 2] });
  const b = tf.input({ shape: [6, 6, 2] });
  const features = (x: tf.SymbolicTensor) =>
    tf.layers.flatten().apply(tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: init() }).apply(x)) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([features(a), features(b)]) as tf.SymbolicTensor;
  return tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 1, kernelInitializer: init() }).apply(joined) as tf.SymbolicTensor });
}

function batch(n: number): { xs: tf.Tensor[]; ys: tf.Tensor } {
  return {
    xs: [tf.randomNormal([n, 6, 6, 2], 0, 1, 'float32', 1), tf.randomNormal([n, 6, 6, 2], 0, 1, 'float32', 2)],
    ys: tf.randomNormal([n, 1], 0, 1, 'float32', 3),
  };
}

const lossFor = (model: tf.LayersModel): BatchLoss => (xs, ys) => tf.losses.huberLoss(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar;

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

describe('minimizeInMicroBatches', () => {
  it('makes the same update and reports the same loss as one step over the whole batch', async () => {
    const { xs, ys } = batch(10);
    const whole = twoInputNet(7);
    const sliced = twoInputNet(7);
    const [wholeOptimizer, slicedOptimizer] = [tf.train.adam(0.01), tf.train.adam(0.01)];
    for (let step = 0; step < 3; step++) {
      const a = minimizeInMicroBatches(wholeOptimizer, lossFor(whole), xs, ys, 10);
      const b = minimizeInMicroBatches(slicedOptimizer, lossFor(sliced), xs, ys, 3); // slices of 3, 3, 3, 1
      expect((await b.data())[0]).toBeCloseTo((await a.data())[0]!, 5);
      tf.dispose([a, b]);
    }
    const [expected, actual] = [await weightsOf(whole), await weightsOf(sliced)];
    expect(actual.length).toBe(expected.length);
    actual.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
    tf.dispose([...xs, ys]);
    whole.dispose();
    sliced.dispose();
  });

  it("leaves no tensor behind, and passes a failing slice's error on", () => {
    const { xs, ys } = batch(8);
    const model = twoInputNet(3);
    const optimizer = tf.train.sgd(0.1);
    minimizeInMicroBatches(optimizer, lossFor(model), xs, ys, 3).dispose(); // optimizer state created
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) minimizeInMicroBatches(optimizer, lossFor(model), xs, ys, 3).dispose();
    expect(tf.memory().numTensors).toBe(before);
    let calls = 0;
    const failing: BatchLoss = (x, y) => {
      if (++calls === 2) throw new Error('slice two failed');
      return lossFor(model)(x, y);
    };
    // (tfjs itself keeps the tensors a loss function made on the tape before it threw, so the count is not checked here.)
    expect(() => minimizeInMicroBatches(optimizer, failing, xs, ys, 3)).toThrow('slice two failed');
    tf.dispose([...xs, ys]);
    model.dispose();
  });

  it('trains through the loop to the same losses with and without micro-batches', async () => {
    const { xs, ys } = batch(16);
    const source: BatchSource = async function* () {
      for (let i = 0; i < 16; i += 8) yield { xs: xs.map((x) => x.slice(i, 8)), ys: ys.slice(i, 8), size: 8 };
    };
    const histories: number[][] = [];
    for (const microBatch of [undefined, 3]) {
      const model = twoInputNet(11);
      const result = await trainLoop({
        model,
        optimizer: tf.train.adam(0.01),
        loss: (y, p) => tf.losses.huberLoss(y, p) as tf.Scalar,
        train: source,
        batchesPerEpoch: 2,
        epochs: 3,
        validate: async () => ({}),
        microBatch,
      });
      histories.push(result.history.map((h) => h.metrics.loss!));
      model.dispose();
    }
    histories[1]!.forEach((loss, i) => expect(loss).toBeCloseTo(histories[0]![i]!, 5));
    tf.dispose([...xs, ys]);
  });
});

describe('training memory', () => {
  it('counts every layer output per example, a shared sub-model once per call', () => {
    const inner = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [4, 4, 2], filters: 3, kernelSize: 3, padding: 'same' }), tf.layers.flatten()] });
    // inner: conv 4·4·3 = 48, flatten 48 → 96 per call.
    const a = tf.input({ shape: [4, 4, 2] });
    const b = tf.input({ shape: [4, 4, 2] });
    const joined = tf.layers.concatenate().apply([inner.apply(a), inner.apply(b)] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
    const shared = tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 5 }).apply(joined) as tf.SymbolicTensor });
    // two inputs 2·32, the shared model twice 2·96, concatenate 96, dense 5
    expect(activationFloatsPerExample(shared)).toBe(64 + 192 + 96 + 5);
    shared.dispose();
  });

  it('splits a batch on wasm only when a step would not fit the heap, into the fewest even slices', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 8_000_000 })] }); // 8 M floats per example
    try {
      // 8 M floats · 10 B = 80 MB per example (+ 16 B for each of its 16 M parameters): 3 GiB holds 37.
      expect(microBatchFor(model, 'wasm', 32)).toBeUndefined();
      expect(microBatchFor(model, 'wasm', 40)).toBe(20); // 37 fit → 2 slices of 20
      expect(microBatchFor(model, 'webgpu', 40)).toBeUndefined();
      expect(microBatchFor(model, 'cpu', 40)).toBeUndefined();
    } finally {
      model.dispose();
    }
  });

  it('prices each layer: a composed activation three times a one-kernel layer, BatchNorm and ReLU by whether their fused kernels are registered', () => {
    const input = tf.input({ shape: [8, 8, 4] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const norm = tf.layers.batchNormalization().apply(conv) as tf.SymbolicTensor;
    const relu = tf.layers.reLU().apply(norm) as tf.SymbolicTensor;
    const relu6 = tf.layers.reLU({ maxValue: 6 }).apply(relu) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: relu6 });
    const floats = 8 * 8 * 4; // every layer's output, the input's included
    try {
      // input 10, conv 10, BatchNorm composed 30, ReLU composed 30, ReLU6 30 bytes a float
      expect(stepBytesPerExample(model, false)).toBe(floats * (10 + 10 + 30 + 30 + 30));
      // BatchNorm and ReLU as one kernel each way (Loupe's wasm kernels): 10; ReLU6's gradient stays composed
      expect(stepBytesPerExample(model, true)).toBe(floats * (10 + 10 + 10 + 10 + 30));
      registerWasmTrainingKernels();
      expect(stepBytesPerExample(model)).toBe(floats * (10 + 10 + 10 + 10 + 30));
    } finally {
      unregisterWasmTrainingKernels();
      model.dispose();
    }
  });

  it.each([
    // The two: whole batches of 16 that the one-figure estimate (24 B a float) split in two.
    { backbone: 'resnet18' as const, size: 128, batch: 16, expected: undefined, split: 'one piece' },
    { backbone: 'mobilenetv3-small' as const, size: 224, batch: 16, expected: undefined, split: 'one piece' },
    { backbone: 'mobilenetv3-small' as const, size: 128, batch: 16, expected: undefined, split: 'one piece' },
    // Two slices of 8 until stop 32 (estimate 3.1 GiB); with BatchNorm + ReLU fused and ReLU priced as one
    // kernel, 2.7 GiB: measured, the whole batch's step holds a 2.3 GiB heap.
    { backbone: 'resnet18' as const, size: 224, batch: 16, expected: undefined, split: 'one piece' },
    // What still does not fit: 64 such examples.
    { backbone: 'resnet18' as const, size: 224, batch: 64, expected: 16, split: 'micro-batches of 16' },
  ])('trains the dual $backbone coin regressor at $size², batch $batch on wasm in $split', ({ backbone, size, batch, expected }) => {
    const { model } = createModel({ architecture: 'coin-regressor', backbone, mode: 'dual', inputSize: size, seed: 1 });
    try {
      registerWasmTrainingKernels();
      expect(microBatchFor(model, 'wasm', batch)).toBe(expected);
    } finally {
      unregisterWasmTrainingKernels();
      model.dispose();
    }
  });
});
