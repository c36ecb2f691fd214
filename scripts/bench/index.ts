/**
 * Loupe's training benchmarks in Node: the wasm training kernels (src/lib/backends/wasm-kernels) one by
 * one, and whole training steps of the coin regressor on the wasm and cpu backends.
 *
 *   npm run bench                              # everything (~15 minutes on 2 shared cores)
 *   npm run bench -- --only kernels --reps 5   # kernel table only
 *   npm run bench -- --only train --size 128 --batch 16 --rounds 3 --warmup 1 --backends wasm
 *   npm run bench -- --only before --before-size 64 --before-batch 4
 *   npm run bench -- --only browser --ingest-images 500 --predict-requests 50
 *   npm run bench -- --only browser --browser-train-backends wasm --no-isolation   # wasm on one thread
 *   npm run bench -- --only browser --browser-train-backends webgpu --no-webgpu-kernels   # tfjs's composed ops
 *   npm run bench -- --only monitoring --monitor-rows 1000000 --monitor-writes 100000
 *   npm run bench -- --only log --log-rows 5000           # the inference log's group commit, Node (fake-indexeddb)
 *   npm run bench -- --only browser-log --log-rows 5000   # the same in headless Chromium (real IndexedDB)
 *   npm run bench -- --only finetune --ft-images 320 --ft-size 128 --batch 16   # frozen/cached epochs vs a full one
 *
 * Parts: `kernels` (each wasm kernel, ours vs the baseline), `train` (training steps at --size/--batch of
 * every configuration but the naive ones), `before` (before/after at a small size, where the naive
 * configurations — minutes per step at 128² — finish: one timed step each, no warm-up) and `browser`
 * (in headless Chromium: images ingested per second, prediction latency per backend and model, inference
 * log rows written per second, training steps per backend with the data each step writes and reads back) and `monitoring` (inference-log writes with rollups, and every Monitor chart's
 * data over 1,000,000 log rows from rollups vs from raw rows; scripts/bench/monitoring.ts) and `log` (the inference
 * log's group commit: rows/s and how long an answer waits for its row, 1…256 clients; scripts/bench/group-commit.ts).
 *
 * Prints tables and writes bench-results/bench-<time>.json (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, printTable, startWasm } from './env';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { LoupeDb } from '../../src/lib/db/db';
import { benchBrowser, printCommitSteps, printGroupCommit, type BrowserBenchResult } from './browser';
import { benchCommitSteps, benchGroupCommit, type CommitStep, type GroupCommitResult } from './group-commit';
import { benchKernels, kernelCases, resnetCases, type KernelResult } from './kernels';
import { benchMonitoring, type MonitoringBenchResult } from './monitoring';
import { benchFineTune, type FineTuneBenchResult } from './fine-tune';
import { benchTraining, cpuConfigs, wasmConfigs, type TrainResult } from './train';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    // Kernel cases: MobileNetV3-Small's layers (default) or ResNet18's convolutions (XNNPACK vs Loupe's GEMM).
    'kernel-set': { type: 'string', default: 'mobilenetv3-small' },
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '16' },
    'before-size': { type: 'string', default: '64' },
    'before-batch': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    reps: { type: 'string', default: '5' },
    backends: { type: 'string', default: 'wasm,cpu' },
    configs: { type: 'string' },
    profile: { type: 'boolean', default: true },
    'no-profile': { type: 'boolean', default: false },
    'ingest-images': { type: 'string', default: '500' },
    'predict-requests': { type: 'string', default: '50' },
    'predict-backends': { type: 'string', default: 'webgpu,webgl,wasm,cpu' },
    'log-rows': { type: 'string', default: '5000' },
    'browser-train-backends': { type: 'string', default: 'webgpu,webgl,wasm,cpu' },
    // The page without cross-origin isolation: WebAssembly on one thread (to measure what threads bring).
    'no-isolation': { type: 'boolean', default: false },
    // webgpu's training steps with tfjs's composed ops instead of Loupe's WebGPU kernels (the stop-22 path).
    'no-webgpu-kernels': { type: 'boolean', default: false },
    // tfjs's XNNPACK threads in Node: all cores by default, as the `loupe` command runs; 1 for tfjs's single-threaded build.
    'wasm-threads': { type: 'string' },
    'browser-train-configs': { type: 'string', default: 'mobilenetv3-small:dual:128' },
    'monitor-rows': { type: 'string', default: '1000000' },
    'monitor-writes': { type: 'string', default: '100000' },
    'ft-images': { type: 'string', default: '320' },
    'ft-size': { type: 'string', default: '128' },
    'ft-backbone': { type: 'string', default: 'mobilenetv3-small' },
  },
});

const positive = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer, got ${value}`);
  return n;
};

await startWasm(args['wasm-threads'] ? positive('wasm-threads', args['wasm-threads']) : undefined);
const machine = describeMachine();
console.log(`${machine.cpu} × ${machine.cores}, ${machine.platform}, Node ${machine.node}, tfjs ${machine.tfjs}`);
console.log(`wasm SIMD ${machine.wasmSimd}, XNNPACK threads ${machine.wasmPool}; load average ${machine.loadStart.toFixed(2)}\n`);

let kernels: KernelResult[] = [];
const training: TrainResult[] = [];

if (args.only === undefined || args.only === 'kernels') {
  const batch = positive('batch', args.batch);
  console.log(`Kernels (wasm backend, MobileNetV3-Small layers at 128², batch ${batch}), median of ${args.reps}:`);
  kernels = await benchKernels(args['kernel-set'] === 'resnet18' ? resnetCases(batch) : kernelCases(batch), positive('reps', args.reps));
  console.log();
  printTable(
    ['kernel', 'layer', 'variant', 'ms', 'GFLOP/s', '× baseline'],
    kernels.map((r) => [r.kernel, r.layer, r.variant, r.medianMs.toFixed(2), r.gflops?.toFixed(2) ?? '—', r.speedup.toFixed(1)]),
  );
  console.log();
}

async function trainingPart(part: 'train' | 'before', inputSize: number, batch: number): Promise<TrainResult[]> {
  const backends = new Set(args.backends.split(','));
  let configs = [...(backends.has('wasm') ? wasmConfigs() : []), ...(backends.has('cpu') ? await cpuConfigs() : [])];
  if (args.configs) {
    const wanted = new Set(args.configs.split(','));
    configs = configs.filter((c) => wanted.has(c.id));
  } else if (part === 'train') {
    configs = configs.filter((c) => !c.slow);
  } else {
    configs = configs.filter((c) => c.slow || c.id === 'wasm-all' || c.id === 'cpu-loupe');
  }
  const options = {
    inputSize,
    batch,
    rounds: Math.max(1, positive('rounds', args.rounds)),
    warmup: positive('warmup', args.warmup),
    profile: args.profile && !args['no-profile'],
  };
  console.log(`Training steps (${part}: batch ${batch}, ${inputSize}², Adam), ${options.warmup} warm-up + ${options.rounds} timed per config (those marked once: 1, no warm-up):`);
  const results = await benchTraining(configs, options);
  console.log(`\nModel: ${results[0]?.model ?? '—'}`);
  printTable(
    ['config', 'median step ms', 'samples/s', 'steps ms'],
    results.map((r) => [r.label, r.medianMs, r.samplesPerSecond.toFixed(2), r.stepsMs.join(' ')]),
  );
  for (const r of results.filter((t) => t.profile)) {
    console.log(`Top kernels, one profiled step of ${r.id}: ${r.profile!.slice(0, 8).map((k) => `${k.kernel} ${k.ms}`).join(', ')}`);
  }
  console.log();
  return results;
}

if (args.only === undefined || args.only === 'train') {
  training.push(...(await trainingPart('train', positive('size', args.size), positive('batch', args.batch))));
}
if (args.only === undefined || args.only === 'before') {
  training.push(...(await trainingPart('before', positive('before-size', args['before-size']), positive('before-batch', args['before-batch']))));
}

let monitoring: MonitoringBenchResult | undefined;
if (args.only === undefined || args.only === 'monitoring') {
  monitoring = await benchMonitoring({ rows: positive('monitor-rows', args['monitor-rows']), writes: positive('monitor-writes', args['monitor-writes']) });
}

let log: GroupCommitResult[] | undefined;
let logSteps: CommitStep[] | undefined;
if (args.only === undefined || args.only === 'log') {
  const rows = positive('log-rows', args['log-rows']);
  console.log(`Inference log group commit in Node over fake-indexeddb (an in-memory IndexedDB; Chromium: --only browser-log), ${rows} rows per line:`);
  const factory = new IDBFactory();
  const db = new LoupeDb('bench-group-commit', { indexedDB: factory, IDBKeyRange });
  log = await benchGroupCommit(db, rows);
  printGroupCommit(log);
  console.log(`\nWhere one answer's wait goes, ${Math.min(rows, 500)} rounds each:`);
  logSteps = await benchCommitSteps(db, factory, Math.min(rows, 500));
  printCommitSteps(logSteps);
  console.log();
}

let fineTune: FineTuneBenchResult | undefined;
if (args.only === undefined || args.only === 'finetune') {
  const backbone = args['ft-backbone'];
  if (backbone !== 'mobilenetv3-small' && backbone !== 'resnet18') throw new RangeError(`--ft-backbone must be mobilenetv3-small or resnet18, got ${backbone}`);
  fineTune = await benchFineTune({ images: positive('ft-images', args['ft-images']), inputSize: positive('ft-size', args['ft-size']), batch: positive('batch', args.batch), backbone });
  console.log();
}

let browser: BrowserBenchResult | undefined;
if (args.only === undefined || args.only === 'browser' || args.only === 'browser-log') {
  browser = await benchBrowser({
    ingestImages: positive('ingest-images', args['ingest-images']),
    predictRequests: positive('predict-requests', args['predict-requests']),
    predictBackends: args['predict-backends'].split(','),
    logRows: positive('log-rows', args['log-rows']),
    trainBackends: args['browser-train-backends'].split(','),
    trainConfigs: args['browser-train-configs'].split(',').map((spec) => {
      const [backbone, mode, size] = spec.split(':');
      if ((backbone !== 'mobilenetv3-small' && backbone !== 'resnet18') || (mode !== 'dual' && mode !== 'shared')) {
        throw new RangeError(`--browser-train-configs: "${spec}" is not backbone:mode:size (e.g. mobilenetv3-small:dual:128)`);
      }
      return { backbone, mode, size: positive('browser-train-configs size', size), batch: positive('batch', args.batch) };
    }),
    trainWarmup: positive('warmup', args.warmup),
    trainRounds: Math.max(1, Math.min(2, positive('rounds', args.rounds))),
    isolated: !args['no-isolation'],
    webgpuKernels: !args['no-webgpu-kernels'],
    logOnly: args.only === 'browser-log',
  });
}

machine.loadEnd = os.loadavg()[0]!;
const dir = join(process.cwd(), 'bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, args, kernels, training, browser, monitoring, log, logSteps, fineTune }, null, 2));
console.log(`\nload average at the end ${machine.loadEnd.toFixed(2)}; wrote ${file}`);
