// The worker of scripts/bench/relaxed-browser.ts: relaxed SIMD FMA checked where the studio trains (a
// module worker of a cross-origin isolated page, tfjs's threaded wasm build on shared memory).
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { spawnGemmHelperInWorker } from '$lib/backends/gemm-threads';
import { useEveryCoreForWasm, useWasmPool } from '$lib/backends/wasm-pool';
import { useBackend } from '$lib/backends/tfjs';
import {
  registerWasmTrainingKernels,
  relaxedSimdInUse,
  runOnCpu,
  startGemmHelpers,
  stopGemmHelpers,
  type ConvolutionGemm,
} from '$lib/backends/wasm-kernels/index';
import { useRelaxedSimd } from '$lib/backends/wasm-kernels/simd/module';
import { coinYearLoss, createModel } from '$models/index';
import { adam } from '$lib/training/adam';
import { microBatchFor } from '$lib/training/memory';
import { minimizeInMicroBatches } from '$lib/training/micro-batches';
import { TrainerService } from '$lib/workers/trainer-service';
import { getDb } from '$lib/db/db';
import type { TrainJobSpec } from '$lib/db/specs';

// XNNPACK's pool: as the page's `?pool=N` says (the trainer's is 1: wasm-pool.ts), else a thread per core.
const pool = Number(/pool=(\d+)/.exec(self.name)?.[1]);
if (pool) useWasmPool(pool);
else useEveryCoreForWasm();

interface Config { backbone: 'mobilenetv3-small' | 'resnet18'; mode: 'dual' | 'shared'; size: number; batch: number }

/**
 * `steps` training steps of the coin regressor from seed-1 weights on seeded random data: the losses, and
 * each step's milliseconds. `gemmThreads` > 1 starts GEMM helper threads as the studio's trainer does.
 */
async function train(args: { relaxed: boolean; config: Config; steps: number; backend?: string; convolutions?: ConvolutionGemm; gemmThreads?: number }) {
  const info = await useBackend(args.backend ?? 'wasm');
  if (info.backend === 'wasm') registerWasmTrainingKernels({ relaxedSimd: args.relaxed, convolutions: args.convolutions });
  stopGemmHelpers();
  const helpers = info.backend === 'wasm' && (args.gemmThreads ?? 1) > 1 ? await startGemmHelpers(tf.backend() as BackendWasm, args.gemmThreads! - 1, spawnGemmHelperInWorker) : 0;
  const { config } = args;
  const { model } = createModel({ architecture: 'coin-regressor', backbone: config.backbone, mode: config.mode, inputSize: config.size, seed: 1 });
  const loss = coinYearLoss('huber');
  const optimizer = adam(1e-3);
  const shape: [number, number, number, number] = [config.batch, config.size, config.size, 3];
  const front = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const back = tf.randomNormal(shape, 0, 1, 'float32', 2);
  const years = tf.randomNormal([config.batch, 1], 0, 1, 'float32', 3);
  const microBatch = microBatchFor(model, info.backend, config.batch);
  const lossOf = (xs: tf.Tensor | tf.Tensor[], ys: tf.Tensor) => loss(ys, model.apply(xs, { training: true }) as tf.Tensor);
  const losses: number[] = [];
  const stepsMs: number[] = [];
  for (let i = 0; i < args.steps; i++) {
    const started = performance.now();
    const value = minimizeInMicroBatches(optimizer, lossOf, [front, back], years, microBatch ?? config.batch);
    losses.push((await value.data())[0]!);
    stepsMs.push(performance.now() - started);
    value.dispose();
  }
  tf.dispose([front, back, years]);
  optimizer.dispose();
  model.dispose();
  return { backend: info.backend, adapter: info.adapter, relaxed: relaxedSimdInUse(), losses, stepsMs, microBatch, gemmThreads: helpers + 1 };
}

/** Every kernel Loupe registers, run with FMA, without, and on the cpu backend on the real step's tensors: the worst difference per kernel. */
async function trace(args: { config: Config; steps: number; convolutions?: 'loupe' | 'xnnpack' }) {
  await useBackend('wasm');
  const names = registerWasmTrainingKernels({ relaxedSimd: true, convolutions: args.convolutions });
  const stats: Record<string, { calls: number; worst: number; worstCpu: number; first?: string }> = {};
  const restore: (() => void)[] = [];
  for (const name of names) {
    const kernel = tf.getKernel(name, 'wasm')!;
    tf.unregisterKernel(name, 'wasm');
    const wrapped = (a: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }) => {
      const { backend } = a;
      useRelaxedSimd(true);
      const fused = kernel.kernelFunc(a as never) as tf.TensorInfo | tf.TensorInfo[];
      useRelaxedSimd(false);
      const plain = kernel.kernelFunc(a as never) as tf.TensorInfo | tf.TensorInfo[];
      useRelaxedSimd(true);
      const fs = Array.isArray(fused) ? fused : [fused];
      const ps = Array.isArray(plain) ? plain : [plain];
      let cpu: tf.TensorInfo | undefined;
      if (!Array.isArray(fused) && tf.getKernel(name, 'cpu')) try { cpu = runOnCpu(name, a.inputs, backend, a.attrs); } catch { cpu = undefined; }
      const s = (stats[name] ??= { calls: 0, worst: 0, worstCpu: 0 });
      s.calls++;
      fs.forEach((f, i) => {
        if (f.dtype !== 'float32') return;
        const x = backend.readSync(f.dataId) as Float32Array;
        const y = backend.readSync(ps[i]!.dataId) as Float32Array;
        const z = cpu && i === 0 ? (backend.readSync(cpu.dataId) as Float32Array) : undefined;
        let scale = 1e-6;
        for (let j = 0; j < y.length; j++) scale = Math.max(scale, Math.abs(y[j]!));
        let d = 0, dc = 0;
        for (let j = 0; j < x.length; j++) {
          const e = Number.isNaN(x[j]!) !== Number.isNaN(y[j]!) ? Infinity : Math.abs(x[j]! - y[j]!);
          d = Math.max(d, e);
          if (z) dc = Math.max(dc, Number.isNaN(x[j]!) !== Number.isNaN(z[j]!) ? Infinity : Math.abs(x[j]! - z[j]!));
        }
        s.worst = Math.max(s.worst, d / scale);
        s.worstCpu = Math.max(s.worstCpu, dc / scale);
        if (!s.first && (d / scale > 1e-3 || dc / scale > 1e-3)) s.first = `call ${s.calls} out ${i}: inputs ${Object.entries(a.inputs).map(([k, t]) => `${k}${JSON.stringify(t?.shape)}`).join(' ')} attrs ${JSON.stringify(a.attrs)} diff ${d / scale} cpu ${dc / scale} scale ${scale}`;
      });
      ps.forEach((p) => backend.disposeData(p.dataId));
      if (cpu) backend.disposeData(cpu.dataId);
      return fused;
    };
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: wrapped as never });
    restore.push(() => { tf.unregisterKernel(name, 'wasm'); tf.registerKernel(kernel); });
  }
  try {
    const result = await train({ relaxed: true, config: args.config, steps: args.steps, convolutions: args.convolutions });
    return { result, stats };
  } finally {
    restore.forEach((f) => f());
  }
}

/** How the job trains; the defaults are the coin e2e's settings before stop 26. */
interface JobSettings { learningRate?: number; dropout?: number; epochs?: number; patience?: number; warmupEpochs?: number; cosine?: boolean }

/** The e2e's training job (demo coins, dual MobileNetV3-Small 64 px) in this worker, FMA on or off: each epoch's and the reported metrics. */
async function job(args: { relaxed: boolean; seed: number; gemmThreads?: number } & JobSettings) {
  await useBackend('wasm');
  registerWasmTrainingKernels({ relaxedSimd: args.relaxed });
  // As the studio's trainer: Loupe's convolutions shared with a helper thread per further core.
  if (args.gemmThreads !== 1) await startGemmHelpers(tf.backend() as BackendWasm, Math.min(navigator.hardwareConcurrency, 8) - 1, spawnGemmHelperInWorker);
  else stopGemmHelpers();
  const db = getDb();
  const datasetId = (await db.datasets.filter((d) => d.demo === 'coins').first())!.id;
  const schedule = args.warmupEpochs || args.cosine ? { fineTune: { warmupEpochs: args.warmupEpochs ?? 0, cosine: args.cosine ?? false } } : {};
  const spec = {
    name: `fma ${args.relaxed}`, task: 'coin-year', datasetId, epochs: args.epochs ?? 4, batchSize: 16, optimizer: 'adam', learningRate: args.learningRate ?? 0.003, seed: args.seed,
    model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 64, projection: { units: 32 }, ...(args.dropout !== undefined ? { dropout: args.dropout } : {}), ...schedule },
    ...(args.patience ? { earlyStopping: { monitor: 'val_mae', patience: args.patience } } : {}),
  } as unknown as TrainJobSpec;
  const epochs: Record<string, number>[] = [];
  const outcome = await new TrainerService().train(spec, 'wasm', ((p: { kind: string; metrics?: Record<string, number>; loss?: number }) => {
    if (p.kind === 'epoch') { epochs.push(p.metrics!); postMessage({ log: `relaxed ${args.relaxed} epoch ${JSON.stringify(p.metrics)}` }); }
  }) as never, (() => {}) as never);
  return { relaxed: relaxedSimdInUse(), epochs, metrics: outcome.metrics };
}

const ops: Record<string, (args: never) => Promise<unknown>> = { train, trace, job };
onmessage = async (e: MessageEvent<{ id: number; op: string; args: unknown }>) => {
  const { id, op, args } = e.data;
  try {
    postMessage({ id, result: await ops[op]!(args as never) });
  } catch (error) {
    postMessage({ id, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
  }
};
