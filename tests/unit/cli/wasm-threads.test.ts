import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { useThreadedWasmInNode } from '../../../src/cli/wasm-threads';
import { spawnGemmHelperInNode } from '../../../src/cli/gemm-helpers';
import {
  gemmHelperCount,
  gemmHelperParts,
  registerWasmTrainingKernels,
  startGemmHelpers,
  stopGemmHelpers,
} from '../../../src/lib/backends/wasm-kernels/index';
import { simdKernels } from '../../../src/lib/backends/wasm-kernels/simd/module';
import { createModel, coinYearLoss } from '../../../models/index';
import { maxScaledError, startWasm } from '../kernels/wasm';

/** The coin regressor's loss and gradients for one batch on the active backend. */
async function lossAndGradients(backbone: 'mobilenetv3-small' | 'resnet18' = 'mobilenetv3-small', size = 32): Promise<{ loss: number; gradients: Float32Array[] }> {
  const { model } = createModel({ architecture: 'coin-regressor', backbone, mode: 'dual', inputSize: size, seed: 7 });
  const [front, back] = [1, 2].map((seed) => tf.randomUniform([4, size, size, 3], 0, 1, 'float32', seed));
  const years = tf.tensor2d([[1820], [1905], [1950], [2001]]);
  const { value, grads } = tf.variableGrads(() => coinYearLoss('huber')(years, model.apply([front!, back!], { training: true }) as tf.Tensor) as tf.Scalar);
  const names = Object.keys(grads).sort();
  const result = { loss: (await value.data())[0]!, gradients: await Promise.all(names.map(async (name) => (await grads[name]!.data()) as Float32Array)) };
  tf.dispose([value, front!, back!, years, ...Object.values(grads)]);
  model.dispose();
  return result;
}

describe('tfjs wasm threaded in Node', () => {
  beforeAll(async () => {
    useThreadedWasmInNode(2);
    registerWasmTrainingKernels();
    await startWasm();
  });

  it('starts the threaded build with a pool of two, and Loupe kernels bind to its shared memory', () => {
    expect(getThreadsCount()).toBe(2);
    expect(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(true);
    const backend = tf.backend() as BackendWasm;
    expect((backend.wasm as unknown as { wasmMemory: WebAssembly.Memory }).wasmMemory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(simdKernels(backend)).not.toBeNull();
  });

  it('gives the cpu backend\'s loss and gradients for a training step of the coin regressor', async () => {
    const threaded = await lossAndGradients();
    await tf.setBackend('cpu');
    const reference = await lossAndGradients();
    await tf.setBackend('wasm');
    expect(Math.abs(threaded.loss - reference.loss)).toBeLessThan(1e-4 * (1 + Math.abs(reference.loss)));
    expect(threaded.gradients).toHaveLength(reference.gradients.length);
    const worst = Math.max(...threaded.gradients.map((values, i) => maxScaledError(values, reference.gradients[i]!)));
    expect(worst).toBeLessThan(1e-3);
  });

  it('shares the convolutions with a helper thread: the same loss and gradients, bit for bit, as the same GEMM on one thread', async () => {
    const backend = tf.backend() as BackendWasm;
    try {
      // ResNet18 at 64², batch 4: its GEMMs are big enough to split (gemm-helpers.ts).
      registerWasmTrainingKernels({ convolutions: 'xnnpack' });
      const xnnpack = await lossAndGradients('resnet18', 64);
      registerWasmTrainingKernels({ convolutions: 'loupe' });
      const alone = await lossAndGradients('resnet18', 64);
      await expect(startGemmHelpers(backend, 1, spawnGemmHelperInNode)).resolves.toBe(1);
      registerWasmTrainingKernels(); // `auto`: Loupe's GEMM while helpers run
      expect(gemmHelperCount(backend)).toBe(1);
      const before = gemmHelperParts();
      const shared = await lossAndGradients('resnet18', 64);
      expect(gemmHelperParts()).toBeGreaterThan(before);
      expect(shared.loss).toBe(alone.loss);
      shared.gradients.forEach((values, i) => expect(Buffer.from(values.buffer).equals(Buffer.from(alone.gradients[i]!.buffer))).toBe(true));
      // The forward pass agrees with XNNPACK's. Gradients are not compared across GEMMs here: with every
      // year far off, Huber's gradient is the same for each image, BatchNorm's backward pass cancels it,
      // and what is left below the first layers is rounding (kernel-level proofs: conv-gradients.test.ts).
      expect(Math.abs(shared.loss - xnnpack.loss)).toBeLessThan(1e-4 * (1 + Math.abs(xnnpack.loss)));
    } finally {
      stopGemmHelpers();
      registerWasmTrainingKernels();
    }
    expect(gemmHelperCount(backend)).toBe(0);
  });
});
