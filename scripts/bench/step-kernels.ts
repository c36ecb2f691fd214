/**
 * Where a training step's time goes, kernel by kernel: the coin regressor's real step (Adam, Huber) on the
 * wasm backend in Node, as the `loupe` command runs it (tfjs's threaded build, XNNPACK on the calling
 * thread, Loupe's helper threads on the other cores), with every registered wasm kernel's calls timed from
 * outside (kernels are synchronous, so a call's wall time is its cost, its helper threads' share included).
 * The step's time outside kernels is tfjs's own bookkeeping (tape, gradients, tensor tracking) and GC.
 *
 *   npx tsx scripts/bench/step-kernels.ts [--backbone resnet18] [--size 224] [--steps 10] [--by-shape] [--top 30] [--xnnpack-threads 2]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, startGemmHelpers } from '../../src/lib/backends/wasm-kernels/index';
import { MAX_WASM_POOL } from '../../src/lib/backends/wasm-pool';
import { spawnGemmHelperInNode } from '../../src/cli/gemm-helpers';
import { useThreadedWasmInNode } from '../../src/cli/wasm-threads';
import { coinYearLoss, createModel } from '../../models/index';
import { adam } from '../../src/lib/training/adam';
import type { BackboneKind } from '../../models/backbones/types';
import { describeMachine, startWasm } from './env';

const { values: args } = parseArgs({
  options: {
    backbone: { type: 'string', default: 'mobilenetv3-small' },
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '10' },
    'by-shape': { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
    // XNNPACK's pool: 1 as the `loupe` command and the trainer run it since stop 29 (every core before).
    'xnnpack-threads': { type: 'string', default: '1' },
  },
});

const threads = Math.min(MAX_WASM_POOL, os.availableParallelism());
useThreadedWasmInNode(Number(args['xnnpack-threads']));
await startWasm();
registerWasmTrainingKernels();
await startGemmHelpers(tf.backend() as BackendWasm, threads - 1, spawnGemmHelperInNode);

const totals = new Map<string, { ms: number; calls: number }>();
let timing = false;
for (const config of tf.getKernelsForBackend('wasm')) {
  const run = config.kernelFunc;
  (config as { kernelFunc: typeof run }).kernelFunc = (kernelArgs) => {
    if (!timing) return run(kernelArgs);
    const start = performance.now();
    const out = run(kernelArgs);
    const ms = performance.now() - start;
    const shapes = Object.values(kernelArgs.inputs).map((t) => t?.shape);
    const key = args['by-shape'] ? `${config.kernelName} ${JSON.stringify(shapes)}` : config.kernelName;
    const entry = totals.get(key) ?? { ms: 0, calls: 0 };
    totals.set(key, { ms: entry.ms + ms, calls: entry.calls + 1 });
    return out;
  };
}

const [size, batch, steps] = [Number(args.size), Number(args.batch), Number(args.steps)];
const { model } = createModel({ architecture: 'coin-regressor', backbone: args.backbone as BackboneKind, mode: 'dual', inputSize: size, seed: 1 });
const loss = coinYearLoss('huber');
const optimizer = adam(1e-3);
const [front, back, years] = [tf.randomNormal([batch, size, size, 3]), tf.randomNormal([batch, size, size, 3]), tf.randomNormal([batch, 1])];
const step = () => {
  const value = optimizer.minimize(() => loss(years!, model.apply([front!, back!], { training: true }) as tf.Tensor), true)!;
  value.dataSync();
  value.dispose();
};
for (let i = 0; i < 3; i++) step(); // warm-up: wasm code tiers up, the heap grows
timing = true;
const start = performance.now();
for (let i = 0; i < steps; i++) step();
const wall = (performance.now() - start) / steps;
timing = false;

const machine = describeMachine();
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((sum, [, e]) => sum + e.ms, 0) / steps;
console.log(`${machine.cpu} × ${machine.cores}, Node ${machine.node}; dual ${args.backbone} ${size}², batch ${batch}, ${steps} steps, Loupe's kernels on ${threads} threads, XNNPACK on ${args['xnnpack-threads']}`);
console.log(`step ${wall.toFixed(1)} ms: ${inKernels.toFixed(1)} in kernels, ${(wall - inKernels).toFixed(1)} outside; load average ${os.loadavg()[0]!.toFixed(2)}\n`);
console.log('ms / step  calls / step  kernel');
for (const [name, e] of rows.slice(0, Number(args.top))) console.log(`${(e.ms / steps).toFixed(2).padStart(9)}  ${String(e.calls / steps).padStart(12)}  ${name}`);
tf.dispose([front!, back!, years!]);
optimizer.dispose();
model.dispose();
