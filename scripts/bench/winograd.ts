/**
 * `npx tsx scripts/bench/winograd.ts`: ResNet18's stride-1 3×3 layers (128² input, one backbone of a dual
 * batch) through the wasm backend's convolution kernels — forward, input gradient, filter gradient — on
 * Loupe's path with its helper threads (a thread per core), as im2col + GEMM and as Winograd F(4×4, 3×3)
 * taking turns. Median of --reps calls in ms, and the direct convolution's GFLOP/s equivalent.
 *
 *   npx tsx scripts/bench/winograd.ts --batch 16 --reps 7
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { spawnGemmHelperInNode } from '../../src/cli/gemm-helpers';
import { registerWasmTrainingKernels, startGemmHelpers } from '../../src/lib/backends/wasm-kernels/index';
import { useWinograd } from '../../src/lib/backends/wasm-kernels/winograd';
import { startWasm } from './env';

const { values: args } = parseArgs({ options: { batch: { type: 'string', default: '16' }, reps: { type: 'string', default: '7' } } });
const batch = Number(args.batch);
const reps = Number(args.reps);
const cores = Math.min(8, os.availableParallelism());
await startWasm(cores);
registerWasmTrainingKernels({ convolutions: 'loupe' });
const helpers = await startGemmHelpers(tf.backend() as BackendWasm, cores - 1, spawnGemmHelperInNode);

function medianMs(run: () => void): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

function kernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): () => void {
  return () => (tf.engine().runKernel(name, inputs, { strides: 1, pad: 'same', dataFormat: 'NHWC', ...attrs } as tf.NamedAttrMap) as tf.Tensor).dispose();
}

console.log(`batch ${batch}, ${helpers + 1} threads, load ${os.loadavg()[0]!.toFixed(1)}; ms (median of ${reps}): forward / input gradient / filter gradient`);
for (const [layer, size, channels] of [['layer1', 32, 64], ['layer2', 16, 128], ['layer3', 8, 256], ['layer4', 4, 512]] as const) {
  const x = tf.randomNormal([batch, size, size, channels]);
  const filter = tf.randomNormal([3, 3, channels, channels]);
  const dy = tf.randomNormal([batch, size, size, channels]);
  const passes = [
    kernel('Conv2D', { x, filter }, { dilations: 1 }),
    kernel('Conv2DBackpropInput', { dy, filter }, { inputShape: x.shape }),
    kernel('Conv2DBackpropFilter', { x, dy }, { filterShape: filter.shape }),
  ];
  const gflop = (batch * size * size * channels * channels * 9 * 2) / 1e9;
  const rows: string[] = [];
  for (const winograd of [false, true, false, true]) {
    useWinograd(winograd);
    const ms = passes.map(medianMs);
    rows.push(`${winograd ? 'Winograd' : 'im2col'} ${ms.map((t) => t.toFixed(1)).join(' / ')} (${ms.map((t) => (gflop / t * 1e3).toFixed(0)).join(' / ')} GFLOP/s direct-equivalent)`);
  }
  console.log(`${layer} ${size}²×${channels} (${gflop.toFixed(2)} GFLOP direct): ${rows.join(' | ')}`);
  tf.dispose([x, filter, dy]);
}
useWinograd(true);
console.log(`load at the end ${os.loadavg()[0]!.toFixed(1)}`);
process.exit(0);
