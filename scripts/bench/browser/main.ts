/**
 * The studio's own modules in a bare page, for the Chromium benchmarks (scripts/bench/browser.ts drives
 * it with Playwright): the ingest worker's import, the inference worker's predictions per backend, and
 * the inference log's writer, all on real IndexedDB.
 */
import * as tf from '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import { coinYearLoss, createModel } from '$models/index';
import { useBackend } from '$lib/backends/tfjs';
import { useEveryCoreForWasm } from '$lib/backends/wasm-pool';
import { registerWebGpuTrainingKernels, unregisterWebGpuTrainingKernels } from '$lib/backends/webgpu-kernels/index';
import { adam } from '$lib/training/adam';
import { microBatchFor } from '$lib/training/memory';
import { minimizeInMicroBatches } from '$lib/training/micro-batches';
import { getDb } from '$lib/db/db';
import { findRunModel } from '$lib/registry/evaluators';
import { ModelRegistry } from '$lib/registry/registry';
import { TASKS } from '$lib/tasks/registry';
import { benchCommitSteps, benchGroupCommit, type CommitStep, type GroupCommitResult } from '../group-commit';
import type { TrainJobSpec } from '$lib/training/job';
import type { InferenceApi, IngestApi, TrainerApi } from '$lib/workers/types';
import type { ModelVersionRow, TaskName } from '$lib/db/types';
import type { ServingInput } from '$lib/serving/types';

// Literal `new URL(…)` expressions, so Vite bundles each worker.
const spawn = {
  trainer: () => new Worker(new URL('../../../workers/trainer.ts', import.meta.url), { type: 'module' }),
  inference: () => new Worker(new URL('../../../workers/inference.ts', import.meta.url), { type: 'module' }),
  ingest: () => new Worker(new URL('../../../workers/ingest.ts', import.meta.url), { type: 'module' }),
};

// This page's backends only train (predictions run in the inference worker): size wasm's pool as the trainer does.
useEveryCoreForWasm();

const noProgress = Comlink.proxy(() => {});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Distinct 256×256 JPEGs (noise over a gradient, so the encoder cannot shortcut them). */
async function jpegs(count: number): Promise<Blob[]> {
  const canvas = new OffscreenCanvas(256, 256);
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(256, 256);
  const out: Blob[] = [];
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < pixels.data.length; i += 4) {
      const p = i / 4;
      pixels.data[i] = ((p % 256) + n * 7) % 256;
      pixels.data[i + 1] = ((p >> 8) + n * 13) % 256;
      pixels.data[i + 2] = (Math.random() * 256) | 0;
      pixels.data[i + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
    out.push(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 }));
  }
  return out;
}

/** Imports `count` 256×256 JPEGs (one folder per class) through the ingest worker, as the Datasets page does. */
async function ingest(count: number): Promise<{ images: number; stored: number; seconds: number; imagesPerSecond: number; megabytes: number }> {
  const blobs = await jpegs(count);
  const classes = ['minor', 'moderate', 'major'];
  const entries = blobs.map((file, i) => ({ path: `bench/${classes[i % 3]}/img-${i}.jpg`, file }));
  const worker = spawn.ingest();
  const api = Comlink.wrap<IngestApi>(worker);
  try {
    const started = performance.now();
    const outcome = await api.importDataset({ jobId: `bench-${Date.now()}`, entries, options: { task: 'image-classification', preset: 'car-damage', name: `bench ${count}` } }, noProgress);
    const seconds = (performance.now() - started) / 1000;
    return {
      images: count,
      stored: outcome.dataset.sampleCount,
      seconds,
      imagesPerSecond: count / seconds,
      megabytes: blobs.reduce((sum, b) => sum + b.size, 0) / 2 ** 20,
    };
  } finally {
    worker.terminate();
  }
}

/** Small versions of each task's model, trained for one epoch on the demo data and registered. */
async function prepareModels(backend: string): Promise<Record<TaskName, ModelVersionRow>> {
  const db = getDb();
  const ingestWorker = spawn.ingest();
  await Comlink.wrap<IngestApi>(ingestWorker).installDemoData('bench-demo', noProgress);
  ingestWorker.terminate();
  const demo = async (key: string) => (await db.datasets.filter((d) => d.demo === key).first())!.id;
  const common = { epochs: 1, batchSize: 16, optimizer: 'adam' as const, learningRate: 0.003, seed: 1 };
  const specs: Record<TaskName, TrainJobSpec> = {
    'text-classification': { ...common, name: 'bench text-classification', task: 'text-classification', datasetId: await demo('tweets'), model: { architecture: 'fasttext', dim: 32 } },
    'image-classification': {
      ...common,
      name: 'bench image-classification',
      task: 'image-classification',
      datasetId: await demo('cars'),
      model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 128 },
    },
    'coin-year': {
      ...common,
      name: 'bench coin-year',
      task: 'coin-year',
      datasetId: await demo('coins'),
      model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 128 },
    },
  } as Record<TaskName, TrainJobSpec>;
  const worker = spawn.trainer();
  const trainer = Comlink.wrap<TrainerApi>(worker);
  const registry = new ModelRegistry(db);
  const versions = {} as Record<TaskName, ModelVersionRow>;
  try {
    for (const [task, spec] of Object.entries(specs) as [TaskName, TrainJobSpec][]) {
      const result = await trainer.train(spec, backend, noProgress, Comlink.proxy(() => {}));
      const weights = await findRunModel(db, result.runId);
      if (!weights) throw new Error(`run ${spec.name} saved no model`);
      versions[task] = await registry.registerFromRun(result.runId, { name: `bench-${task}`, weights });
    }
  } finally {
    worker.terminate();
  }
  return versions;
}

/** One request of the task's input kind: a text, one photo, or the same photo as both sides of a pair. */
function benchInput(task: TaskName, image: Blob): Promise<ServingInput> {
  const { input } = TASKS[task];
  return input === 'text'
    ? Promise.resolve({ text: 'honestly the best coffee in town, will come back' })
    : image.arrayBuffer().then((bytes) => {
        const file = { bytes: new Uint8Array(bytes), type: 'image/jpeg' as const };
        return input === 'image-pair' ? { front: file, back: file } : { image: file };
      });
}

/** p50/p95 of single-input predictions in a fresh inference worker on `backend`, after warm-up. */
async function predictLatency(
  backends: string[],
  requests: number,
): Promise<{ task: TaskName; backend: string; loadMs: number; p50: number; p95: number; mean: number }[]> {
  const versions = await prepareModels('wasm');
  const [image] = await jpegs(1);
  const out = [];
  for (const backend of backends) {
    const worker = spawn.inference();
    const api = Comlink.wrap<InferenceApi>(worker);
    try {
      for (const [task, version] of Object.entries(versions) as [TaskName, ModelVersionRow][]) {
        const input = await benchInput(task, image!);
        const loadStart = performance.now();
        const loaded = await api.loadModel(version, backend);
        const loadMs = performance.now() - loadStart;
        for (let i = 0; i < 3; i++) await api.predict(loaded.key, [input]);
        const times: number[] = [];
        for (let i = 0; i < requests; i++) {
          const t = performance.now();
          await api.predict(loaded.key, [input]);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        out.push({ task, backend: loaded.backend, loadMs, p50: percentile(times, 50), p95: percentile(times, 95), mean: times.reduce((a, b) => a + b, 0) / times.length });
        await api.unloadModel(loaded.key);
      }
    } finally {
      worker.terminate();
    }
  }
  return out;
}

/** The inference log's group commit on real IndexedDB (scripts/bench/group-commit.ts). */
function groupCommit(rows: number): Promise<GroupCommitResult[]> {
  return benchGroupCommit(getDb(), rows);
}

/** Where one answer's wait goes (scripts/bench/group-commit.ts). */
function commitSteps(rounds: number): Promise<CommitStep[]> {
  return benchCommitSteps(getDb(), indexedDB, rounds);
}

export interface TrainStepConfig {
  backbone: 'mobilenetv3-small' | 'resnet18';
  mode: 'dual' | 'shared';
  size: number;
  batch: number;
}

/** Data crossing between JavaScript and the backend per training step (what a GPU backend waits on). */
export interface StepTransfers {
  /** Tensors the backend stores (on webgpu and wasm every kernel's output is one: `write` without values). */
  writes: number;
  /** Of those, tensors made from JavaScript values (inputs, scalars an op or the optimizer creates): each an
   * upload on a GPU backend when a dispatch reads it. */
  uploads: number;
  /** `uploads` by the op scope that made them (tfjs's op names, e.g. `mul__op`), most first. */
  uploadsByScope: [string, number][];
  /** Asynchronous reads back (`data()`). */
  reads: number;
  /** Blocking reads back (`dataSync()`), each a pipeline stall on a GPU (webgpu: of data on the GPU only). */
  syncReads: number;
  /** WebGPU only (counted on the WebGPU API itself): compute dispatches, pipelines created, bytes written
   * with `queue.writeBuffer` (tensor data and every dispatch's uniforms) and bytes mapped for reading back. */
  gpu?: { dispatches: number; pipelines: number; uploadBytes: number; readbackBytes: number; byProgram: [string, number][]; pipelinesAfterWarmup: string[] };
}

/** Counts WebGPU calls while `counting.on`, by wrapping the API's prototypes (no-op where WebGPU is absent). */
function gpuCounter(counting: { on: boolean }, backend: tf.KernelBackend): { totals: NonNullable<StepTransfers['gpu']>; byProgram: Map<string, number>; restore(): void } {
  const totals = { dispatches: 0, pipelines: 0, uploadBytes: 0, readbackBytes: 0, byProgram: [] as [string, number][], pipelinesAfterWarmup: [] as string[] };
  const g = globalThis as unknown as Record<string, { prototype: Record<string, (...args: unknown[]) => unknown> } | undefined>;
  const undo: (() => void)[] = [];
  const wrap = (type: string, method: string, count: (self: Record<string, unknown>, args: unknown[]) => void) => {
    const proto = g[type]?.prototype;
    const original = proto?.[method];
    if (!proto || !original) return;
    proto[method] = function (this: Record<string, unknown>, ...args: unknown[]) {
      if (counting.on) count(this, args);
      return original.apply(this, args);
    };
    undo.push(() => (proto[method] = original));
  };
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', () => totals.dispatches++);
  // Which program each dispatch and each late pipeline belong to: tfjs's programs by their shader key (as
  // the program made it, before tfjs appends shapes), Loupe's own kernels by their shader module's label.
  let program = '';
  const byProgram = new Map<string, number>();
  const gpuBackend = backend as unknown as { runWebGPUProgram?: (p: { shaderKey: string }, ...rest: unknown[]) => unknown };
  const run = gpuBackend.runWebGPUProgram;
  if (run) {
    gpuBackend.runWebGPUProgram = function (p, ...rest) {
      program = p.shaderKey.split('_').slice(0, 2).join('_');
      try {
        return run.call(this, p, ...rest);
      } finally {
        program = '';
      }
    };
    undo.push(() => (gpuBackend.runWebGPUProgram = run));
  }
  const label = (labelled: unknown) => program || (labelled as { label?: string } | undefined)?.label || '?';
  const compiled = (_: unknown, args: unknown[]) => {
    totals.pipelines++;
    totals.pipelinesAfterWarmup.push(label((args[0] as { compute?: { module?: unknown } }).compute?.module));
  };
  wrap('GPUDevice', 'createComputePipeline', compiled);
  wrap('GPUDevice', 'createComputePipelineAsync', compiled);
  wrap('GPUComputePassEncoder', 'setPipeline', (_, args) => {
    const name = label(args[0]);
    byProgram.set(name, (byProgram.get(name) ?? 0) + 1);
  });
  wrap('GPUQueue', 'writeBuffer', (_, args) => {
    const data = args[2] as ArrayBufferView | ArrayBuffer;
    const size = args[4] as number | undefined;
    totals.uploadBytes += size !== undefined ? size * ((data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : data.byteLength;
  });
  wrap('GPUBuffer', 'mapAsync', (self, args) => {
    if (((args[0] as number) & 1) === 1) totals.readbackBytes += (args[2] as number | undefined) ?? (self['size'] as number);
  });
  return { totals, byProgram, restore: () => undo.forEach((f) => f()) };
}

/** Counts the backend's writes and reads while `counting` is on; `restore` puts its methods back. */
function transferCounter(backend: tf.KernelBackend): { totals: StepTransfers; uploadsByScope: Map<string, number>; counting: { on: boolean }; restore(): void } {
  const totals: StepTransfers = { writes: 0, uploads: 0, uploadsByScope: [], reads: 0, syncReads: 0 };
  const uploadsByScope = new Map<string, number>();
  const counting = { on: false };
  const methods = { write: backend.write, read: backend.read, readSync: backend.readSync };
  const wrap = <K extends keyof typeof methods>(name: K, field: 'writes' | 'reads' | 'syncReads') => {
    const original = methods[name] as (...args: unknown[]) => unknown;
    (backend as unknown as Record<K, unknown>)[name] = (...args: unknown[]) => {
      // A `readSync` of data webgpu still holds on the CPU (small results computed there) waits on nothing.
      const onCpu = name === 'readSync' && (backend as unknown as { tensorMap?: Map<unknown, { values?: unknown }> }).tensorMap?.get(args[0])?.values != null;
      if (counting.on && !onCpu) {
        totals[field]++;
        if (name === 'write' && args[0] != null) {
          totals.uploads++;
          const scope = (tf.engine().state as unknown as { activeScope?: { name?: string } }).activeScope?.name ?? '?';
          uploadsByScope.set(scope, (uploadsByScope.get(scope) ?? 0) + 1);
        }
      }
      return original.apply(backend, args);
    };
  };
  wrap('write', 'writes');
  wrap('read', 'reads');
  wrap('readSync', 'syncReads');
  return { totals, uploadsByScope, counting, restore: () => Object.assign(backend, methods) };
}

/**
 * Median training step (forward, Huber loss, backward, Adam, loss read back with `await data()`) of the
 * coin regressor on `backend` in this page, and the transfers per timed step. One model per
 * configuration, disposed afterwards.
 */
async function trainSteps(
  backend: string,
  config: TrainStepConfig,
  warmup: number,
  rounds: number,
  webgpuKernels = true,
): Promise<{ backend: string; adapter: string; stepsMs: number[]; medianMs: number; tensorsLeaked: number; microBatch?: number; transfers: StepTransfers }> {
  const info = await useBackend(backend);
  if (!webgpuKernels) unregisterWebGpuTrainingKernels();
  const tensorsBefore = tf.memory().numTensors;
  const { model } = createModel({ architecture: 'coin-regressor', backbone: config.backbone, mode: config.mode, inputSize: config.size, seed: 1 });
  const loss = coinYearLoss('huber');
  const optimizer = adam(1e-3);
  const shape: [number, number, number, number] = [config.batch, config.size, config.size, 3];
  const front = tf.randomNormal(shape);
  const back = tf.randomNormal(shape);
  const years = tf.randomNormal([config.batch, 1]);
  // As the studio's training loop takes a step: in micro-batches when the batch would not fit the wasm heap.
  const microBatch = microBatchFor(model, info.backend, config.batch);
  const lossOf = (xs: tf.Tensor | tf.Tensor[], ys: tf.Tensor) => loss(ys, model.apply(xs, { training: true }) as tf.Tensor);
  const times: number[] = [];
  const transfers = transferCounter(tf.backend());
  const gpu = info.backend === 'webgpu' ? gpuCounter(transfers.counting, tf.backend()) : undefined;
  try {
    for (let i = 0; i < warmup + rounds; i++) {
      transfers.counting.on = i >= warmup;
      const start = performance.now();
      const value = minimizeInMicroBatches(optimizer, lossOf, [front, back], years, microBatch ?? config.batch);
      await value.data();
      value.dispose();
      if (i >= warmup) times.push(performance.now() - start);
    }
  } finally {
    transfers.restore();
    gpu?.restore();
    tf.dispose([front, back, years]);
    optimizer.dispose();
    model.dispose();
    if (info.backend === 'webgpu') registerWebGpuTrainingKernels();
  }
  times.sort((a, b) => a - b);
  const perStep = (n: number) => Math.round((n / rounds) * 10) / 10;
  const top = (counts: Map<string, number>): [string, number][] => [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([name, n]) => [name, perStep(n)]);
  return {
    backend: info.backend,
    adapter: info.adapter,
    stepsMs: times.map(Math.round),
    medianMs: percentile(times, 50),
    tensorsLeaked: tf.memory().numTensors - tensorsBefore,
    microBatch,
    transfers: {
      writes: perStep(transfers.totals.writes),
      uploads: perStep(transfers.totals.uploads),
      uploadsByScope: top(transfers.uploadsByScope),
      reads: perStep(transfers.totals.reads),
      syncReads: perStep(transfers.totals.syncReads),
      ...(gpu && {
        gpu: {
          dispatches: perStep(gpu.totals.dispatches),
          pipelines: perStep(gpu.totals.pipelines),
          uploadBytes: perStep(gpu.totals.uploadBytes),
          readbackBytes: perStep(gpu.totals.readbackBytes),
          byProgram: top(gpu.byProgram),
          pipelinesAfterWarmup: gpu.totals.pipelinesAfterWarmup,
        },
      }),
    },
  };
}

Object.assign(window, { loupeBench: { ingest, predictLatency, groupCommit, commitSteps, trainSteps } });
