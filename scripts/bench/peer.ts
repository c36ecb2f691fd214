/**
 * `npm run bench:peer`: the coin-year regressor's training step in tfjs (Node, wasm backend with Loupe's
 * training kernels) next to the identical model and step in PyTorch (Debian's python3-torch, CPU), in the
 * same run, configuration by configuration, with the ratio tfjs / PyTorch. The two take turns (PyTorch in a
 * process kept between them): each turn is a step that warms the caches the other side's turn took, then
 * timed steps; the ratio is the median of the turns' pairs. On a shared machine whose load drifts within a
 * minute, a pair's two sides see the same load.
 *
 *   npm run bench:peer
 *   npm run bench:peer -- --configs mobilenetv3-small:dual:128,resnet18:dual:224 --batch 16 --rounds 3
 *   npm run bench:peer -- --configs mobilenetv3-small:dual:128 --torch-threads 1 --wasm-threads 1   # per core
 *   npm run bench:peer -- --configs resnet18:dual:128 --gemm-threads 1 --convolutions xnnpack     # before stop 27
 *   npm run bench:peer -- --xnnpack-threads 2     # XNNPACK on every core beside Loupe's helpers (before stop 29)
 *
 * Prints a table and writes bench-results/peer-<time>.json (git-ignored).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, relaxedSimdInUse, startGemmHelpers, type ConvolutionGemm } from '../../src/lib/backends/wasm-kernels/index';
import { MAX_WASM_POOL } from '../../src/lib/backends/wasm-pool';
import { spawnGemmHelperInNode } from '../../src/cli/gemm-helpers';
import { useThreadedWasmInNode } from '../../src/cli/wasm-threads';
import { coinYearLoss, createModel } from '../../models/index';
import { adam } from '../../src/lib/training/adam';
import { microBatchFor } from '../../src/lib/training/memory';
import { minimizeInMicroBatches } from '../../src/lib/training/micro-batches';
import type { BackboneKind } from '../../models/backbones/types';
import { describeMachine, median, printTable, startWasm } from './env';

const { values: args } = parseArgs({
  options: {
    configs: { type: 'string', default: 'mobilenetv3-small:dual:128,mobilenetv3-small:shared:128,resnet18:dual:128,mobilenetv3-small:dual:224,resnet18:dual:224' },
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    // Timed steps a turn, after its re-warming step (the pair's figure is their median).
    'turn-steps': { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    // PyTorch's intra-op threads: all cores by default; 1 for a per-core comparison (tfjs's wasm runs on one in Node).
    'torch-threads': { type: 'string' },
    // 1: tfjs's single-threaded build (no shared memory, so no helper threads either); else its threaded build.
    'wasm-threads': { type: 'string' },
    // XNNPACK's pool in tfjs's threaded build: by default 1 beside Loupe's helper threads, as the `loupe`
    // command and the studio's trainer run (src/cli/runtime.ts), a thread per core without them.
    'xnnpack-threads': { type: 'string' },
    // Threads Loupe's convolutions run on, the caller included: a thread per core (at most 8) by default, as
    // the `loupe` command and the studio's trainer run them; 1 for the calling thread alone.
    'gemm-threads': { type: 'string' },
    // Where Conv2D's forward pass and input gradient multiply (registerWasmTrainingKernels' `convolutions`).
    convolutions: { type: 'string' },
    // Two roundings per multiply-add even where relaxed SIMD's FMA runs (to compare).
    'no-relaxed': { type: 'boolean', default: false },
    // im2col + GEMM for stride-1 3×3 convolutions instead of Winograd F(4×4, 3×3) (to compare).
    'no-winograd': { type: 'boolean', default: false },
  },
});

interface PeerConfig {
  backbone: BackboneKind;
  mode: 'dual' | 'shared';
  size: number;
  batch: number;
}

const batch = Number(args.batch);
const rounds = Number(args.rounds);
const warmup = Number(args.warmup);
const timed = Number(args['turn-steps']);
const configs: PeerConfig[] = args.configs.split(',').map((spec) => {
  const [backbone, mode, size] = spec.split(':');
  if ((backbone !== 'mobilenetv3-small' && backbone !== 'resnet18') || (mode !== 'dual' && mode !== 'shared') || !Number(size)) {
    throw new RangeError(`--configs: "${spec}" is not backbone:mode:size (e.g. mobilenetv3-small:dual:128)`);
  }
  return { backbone, mode, size: Number(size), batch };
});

interface Stepper {
  /** `n` training steps' wall times, ms. */
  steps(n: number): Promise<number[]>;
  close(): void;
}

/**
 * The studio's coin regressor on the wasm backend, stepped as the studio's training loop steps it: in
 * micro-batches when the whole batch would not fit the wasm heap (src/lib/training/memory.ts).
 */
function tfjsStepper(config: PeerConfig): Stepper & { microBatch?: number } {
  const { model } = createModel({ architecture: 'coin-regressor', backbone: config.backbone, mode: config.mode, inputSize: config.size, seed: 1 });
  const loss = coinYearLoss('huber');
  const optimizer = adam(1e-3);
  const shape: [number, number, number, number] = [config.batch, config.size, config.size, 3];
  const [front, back, years] = [tf.randomNormal(shape), tf.randomNormal(shape), tf.randomNormal([config.batch, 1])];
  const microBatch = microBatchFor(model, 'wasm', config.batch);
  const lossOf = (xs: tf.Tensor | tf.Tensor[], ys: tf.Tensor) => loss(ys, model.apply(xs, { training: true }) as tf.Tensor);
  return {
    microBatch,
    steps: async (n) =>
      Array.from({ length: n }, () => {
        const start = performance.now();
        const value = minimizeInMicroBatches(optimizer, lossOf, [front!, back!], years!, microBatch ?? config.batch);
        value.dataSync();
        value.dispose();
        return performance.now() - start;
      }),
    close: () => {
      tf.dispose([front!, back!, years!]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** The same model and step in PyTorch (peer.py), in a process that answers each request with a step's time. */
async function torchStepper(config: PeerConfig): Promise<Stepper & { torch: string; threads: number }> {
  const threads = args['torch-threads'] === undefined ? undefined : Number(args['torch-threads']);
  const child = spawn(args.python, [join(import.meta.dirname, 'peer.py'), JSON.stringify({ config, threads })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error(`${args.python} peer.py ended before answering (exit code ${child.exitCode})`);
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  const about = (await next()) as { torch: string; threads: number };
  return {
    ...about,
    steps: async (n) => {
      child.stdin.write(`${n}\n`);
      return ((await next()) as { stepsMs: number[] }).stepsMs;
    },
    close: () => child.stdin.end(),
  };
}

/** Warm-up steps on both sides, then `rounds` turns each: a re-warming step and `timed` steps of tfjs, then of PyTorch. */
async function stepInTurns(config: PeerConfig) {
  const tfjs = tfjsStepper(config);
  const torch = await torchStepper(config);
  const turn = async (side: Stepper) => median((await side.steps(1 + timed)).slice(1));
  try {
    await tfjs.steps(warmup);
    await torch.steps(warmup);
    const pairs: [number, number][] = [];
    for (let i = 0; i < rounds; i++) pairs.push([await turn(tfjs), await turn(torch)]);
    const side = (i: 0 | 1) => ({ turnMediansMs: pairs.map((p) => Math.round(p[i])), medianMs: median(pairs.map((p) => p[i])) });
    return {
      tfjs: { ...side(0), microBatch: tfjs.microBatch },
      torch: { ...side(1), torch: torch.torch, threads: torch.threads },
      ratio: median(pairs.map(([t, p]) => t / p)),
    };
  } finally {
    tfjs.close();
    torch.close();
  }
}

const cores = Math.min(MAX_WASM_POOL, os.availableParallelism());
const gemmThreads = args['gemm-threads'] ? Number(args['gemm-threads']) : cores;
if (args['wasm-threads'] !== '1') useThreadedWasmInNode(Number(args['xnnpack-threads'] ?? (gemmThreads > 1 ? 1 : cores)));
await startWasm(args['wasm-threads'] ? Number(args['wasm-threads']) : undefined);
if (args.convolutions !== undefined && !['loupe', 'xnnpack', 'auto'].includes(args.convolutions)) throw new RangeError('--convolutions: loupe, xnnpack or auto');
registerWasmTrainingKernels({ convolutions: args.convolutions as ConvolutionGemm | undefined, relaxedSimd: !args['no-relaxed'], winograd: !args['no-winograd'] });
const gemmHelpers = await startGemmHelpers(tf.backend() as BackendWasm, gemmThreads - 1, spawnGemmHelperInNode);
/** The wasm heap's size (it only grows, so after a configuration: the most any step so far needed). */
const heapMiB = () => Math.round(((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer.byteLength / 2 ** 20);
const machine = describeMachine();
console.log(`${machine.cpu} × ${machine.cores}, Node ${machine.node}, tfjs ${machine.tfjs} (wasm, SIMD ${machine.wasmSimd}, XNNPACK on ${machine.wasmPool} thread${machine.wasmPool === 1 ? '' : 's'}); load average ${machine.loadStart.toFixed(2)}`);
console.log(`Loupe's GEMMs: ${relaxedSimdInUse() ? 'relaxed SIMD FMA' : 'mul + add'} on ${gemmHelpers + 1} thread${gemmHelpers ? 's' : ''}; convolutions on ${args.convolutions ?? 'the default'}${args['no-winograd'] ? ', no Winograd' : ''}`);
console.log(`Coin regressor training step, batch ${batch}, Adam, Huber; ${warmup} warm-up, then ${rounds} turns each of 1 + ${timed} steps, tfjs and PyTorch alternating; medians:\n`);

const results = [];
for (const config of configs) {
  const name = `${config.backbone} ${config.mode} ${config.size}²`;
  const { tfjs, torch, ratio } = await stepInTurns(config);
  const heap = heapMiB();
  console.log(`  ${name}: tfjs wasm ${Math.round(tfjs.medianMs)} ms${tfjs.microBatch ? ` (micro-batches of ${tfjs.microBatch})` : ''}, wasm heap ${heap} MiB`);
  console.log(`  ${name}: PyTorch ${torch.torch} (${torch.threads} thread${torch.threads === 1 ? '' : 's'}) ${Math.round(torch.medianMs)} ms; tfjs/PyTorch ${ratio.toFixed(2)}× (median of the pairs)`);
  results.push({ ...config, tfjs: { ...tfjs, heapMiB: heap }, torch, ratio });
}
console.log();
printTable(
  ['configuration', 'tfjs wasm ms', 'PyTorch ms', 'tfjs/PyTorch (pairs)', 'tfjs samples/s', 'PyTorch samples/s'],
  results.map((r) => [
    `${r.backbone} ${r.mode} ${r.size}²${r.tfjs.microBatch ? ` (tfjs in micro-batches of ${r.tfjs.microBatch})` : ''}`,
    Math.round(r.tfjs.medianMs),
    Math.round(r.torch.medianMs),
    `${r.ratio.toFixed(2)}×`,
    (r.batch / (r.tfjs.medianMs / 1000)).toFixed(1),
    (r.batch / (r.torch.medianMs / 1000)).toFixed(1),
  ]),
);
machine.loadEnd = os.loadavg()[0]!;
const dir = join(process.cwd(), 'bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `peer-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, relaxedSimd: relaxedSimdInUse(), convolutions: args.convolutions, winograd: !args['no-winograd'], gemmThreads: gemmHelpers + 1, batch, rounds, warmup, results }, null, 2));
console.log(`\nload average at the end ${machine.loadEnd.toFixed(2)}; wrote ${file}`);
