import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, type WasmTrainingKernelOptions } from '../../src/lib/backends/wasm-kernels/index';
import { adam } from '../../src/lib/training/adam';
import { benchModel } from './model';
import { median } from './env';

export interface TrainConfig {
  id: string;
  label: string;
  backend: 'wasm' | 'cpu';
  /** Puts the kernels of this configuration in place (configs of one backend share one model). */
  setup(): void;
  /** A naive configuration (many minutes per step at 128²): only in the before/after comparison at a small size. */
  slow?: boolean;
  /** Timed once, without warm-up or profile (a step takes minutes; JIT warm-up is noise there). */
  once?: boolean;
}

export interface TrainResult {
  id: string;
  label: string;
  backend: string;
  model: string;
  batch: number;
  inputSize: number;
  stepsMs: number[];
  medianMs: number;
  samplesPerSecond: number;
  lastLoss: number;
  /** Kernel time of one profiled step, by kernel, largest first (tf.profile; includes its overhead). */
  profile?: { kernel: string; ms: number; calls: number }[];
}

export interface TrainOptions {
  inputSize: number;
  batch: number;
  warmup: number;
  rounds: number;
  profile: boolean;
}

/** The wasm configurations, from the naive fallback to everything on. */
export function wasmConfigs(): TrainConfig[] {
  const wasm = (id: string, label: string, options: WasmTrainingKernelOptions): TrainConfig => ({
    id,
    label,
    backend: 'wasm',
    setup: () => void registerWasmTrainingKernels(options),
  });
  return [
    { ...wasm('wasm-cpu-routed', 'wasm, missing kernels routed through tfjs cpu kernels (before)', { mode: 'cpu-routed' }), slow: true, once: true },
    wasm('wasm-ts-gemm', 'wasm + our kernels, TypeScript GEMM', { gemm: 'js', replaceSlowKernels: false, simd: false }),
    wasm('wasm-xnnpack-gemm', 'wasm + our kernels, TS im2col + XNNPACK GEMM', { gemm: 'xnnpack', replaceSlowKernels: false, simd: false }),
    wasm('wasm-plus-backprop-input', '  + our Conv2DBackpropInput', { replaceSlowKernels: ['Conv2DBackpropInput'], simd: false }),
    wasm('wasm-stop18', '  + our Tile, Sum, Mean (the stop-18 default)', { replaceSlowKernels: ['Conv2DBackpropInput', 'Tile', 'Sum', 'Mean'], depthwiseInputGradient: 'js', simd: false }),
    wasm('wasm-stop19', '  + shared Identity/Cast, comparisons, BatchNorm, Slice/Pad, XNNPACK depthwise input gradient (the stop-19 kernels)', { simd: false }),
    wasm('wasm-all', '  + wasm SIMD kernels (simd/*.wat): conv/depthwise gradients, per-channel Multiply/Sub, Sum/Mean; fused hard-swish, BatchNorm, Adam (default, after)', {}),
  ];
}

/** The cpu backend as tfjs ships it, and with Loupe's fast cpu Conv2DBackpropFilter when present. */
export async function cpuConfigs(): Promise<TrainConfig[]> {
  const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  const use = (config: tf.KernelConfig | undefined) => () => {
    if (!config) return;
    tf.unregisterKernel(config.kernelName, 'cpu');
    tf.registerKernel(config);
  };
  const configs: TrainConfig[] = [{ id: 'cpu-stock', label: 'cpu backend, stock tfjs kernels', backend: 'cpu', setup: use(stock), slow: true, once: true }];
  try {
    const { registerFastCpuKernels } = await import('../../src/lib/backends/kernels/register');
    registerFastCpuKernels();
    const fast = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    use(stock)();
    if (fast && fast !== stock) configs.push({ id: 'cpu-loupe', label: "cpu backend + Loupe's fast cpu Conv2DBackpropFilter", backend: 'cpu', setup: use(fast), once: true });
  } catch {
    // Loupe's cpu kernels are not in this checkout: stock only.
  }
  return configs;
}

/**
 * Times training steps (forward, loss, backward, Adam update, reading the loss back) of the benchmark
 * model for each configuration. Configurations of one backend share a model and take turns step by step,
 * so a change in the machine's load hits them alike.
 */
export async function benchTraining(configs: TrainConfig[], options: TrainOptions): Promise<TrainResult[]> {
  const results: TrainResult[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    const group = configs.filter((c) => c.backend === backend);
    if (group.length === 0) continue;
    await tf.setBackend(backend);
    const { name, model, loss } = await benchModel(options.inputSize);
    const optimizer = adam(1e-3);
    const shape: [number, number, number, number] = [options.batch, options.inputSize, options.inputSize, 3];
    const front = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const back = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const years = tf.randomNormal([options.batch, 1], 0, 1, 'float32', 3);
    const step = (): number => {
      const value = optimizer.minimize(() => loss(years, model.apply([front, back], { training: true }) as tf.Tensor), true)!;
      const [lossValue] = value.dataSync();
      value.dispose();
      if (!Number.isFinite(lossValue)) throw new Error(`non-finite loss ${lossValue}`);
      return lossValue!;
    };
    const times = new Map<string, number[]>(group.map((c) => [c.id, []]));
    const losses = new Map<string, number>();
    for (let round = -options.warmup; round < options.rounds; round++) {
      for (const config of group) {
        if (config.once && round !== 0) continue;
        config.setup();
        const start = performance.now();
        losses.set(config.id, step());
        const ms = performance.now() - start;
        if (round >= 0) times.get(config.id)!.push(ms);
        console.log(`  ${round < 0 ? 'warm-up' : `round ${round + 1}`} ${config.id}: ${Math.round(ms)} ms`);
      }
    }
    for (const config of group) {
      const stepsMs = times.get(config.id)!;
      const medianMs = median(stepsMs);
      const result: TrainResult = {
        id: config.id,
        label: config.label,
        backend,
        model: name,
        batch: options.batch,
        inputSize: options.inputSize,
        stepsMs: stepsMs.map((ms) => Math.round(ms)),
        medianMs: Math.round(medianMs),
        samplesPerSecond: options.batch / (medianMs / 1000),
        lastLoss: losses.get(config.id)!,
      };
      if (options.profile && !config.once) {
        config.setup();
        result.profile = await profileStep(step);
      }
      results.push(result);
    }
    tf.dispose([front, back, years]);
    optimizer.dispose();
    model.dispose();
  }
  return results;
}

async function profileStep(step: () => number): Promise<{ kernel: string; ms: number; calls: number }[]> {
  const info = await tf.profile(() => void step());
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.calls++;
    byKernel.set(k.name, entry);
  }
  return [...byKernel]
    .map(([kernel, { ms, calls }]) => ({ kernel, ms: Math.round(ms), calls }))
    .sort((a, b) => b.ms - a.ms);
}
