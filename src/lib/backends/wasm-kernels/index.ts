import {
  engine,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runOnCpu } from './cpu-routed';
import {
  builtin,
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  depthwiseBackpropFilterKernel,
  depthwiseBackpropInputKernel,
  maxPoolGradKernel,
  reductionKernel,
  tileKernel,
  type Fallback,
  type GemmEngine,
  type KernelArgs,
  type MatMul,
} from './kernels';

export type { GemmEngine } from './kernels';
export { runOnCpu } from './cpu-routed';
export { setIm2colBudget } from './conv2d';

/** Gradient kernels that tfjs-backend-wasm 4.22 lacks, so conv/depthwise training fails on wasm without them. */
export const MISSING_WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

/**
 * Kernels tfjs-backend-wasm 4.22 has but that are slow where training needs them (docs/benchmarks.md):
 * Conv2DBackpropInput is a naive loop (~0.6 GFLOP/s); Tile works element by element and Sum/Mean over
 * non-trailing axes transpose the whole tensor first (BatchNorm's gradient does both on every layer).
 */
export const SLOW_WASM_TRAINING_KERNELS = ['Conv2DBackpropInput', 'Tile', 'Sum', 'Mean'] as const;
export type SlowWasmKernel = (typeof SLOW_WASM_TRAINING_KERNELS)[number];

/**
 * Kernels tfjs-backend-wasm 4.22 has but computes wrongly: MaxPoolGrad loses the gradient of windows whose
 * values are all negative. Replaced in every mode (in `cpu-routed` mode by the cpu kernel).
 */
export const BROKEN_WASM_TRAINING_KERNELS = ['MaxPoolGrad'] as const;

export interface WasmTrainingKernelOptions {
  /**
   * `fast` (default): this folder's kernels. `cpu-routed`: the missing kernels run tfjs's cpu kernels on
   * copies of the data (the naive fallback; kept for benchmarks and as a baseline in tests).
   */
  mode?: 'fast' | 'cpu-routed';
  /** Where conv2d gradients multiply: the wasm backend's XNNPACK GEMM (default) or TypeScript loops. */
  gemm?: GemmEngine;
  /**
   * Also replace the slow kernels of tfjs-backend-wasm (all of SLOW_WASM_TRAINING_KERNELS, or those
   * listed). Default true; mode `fast` only.
   */
  replaceSlowKernels?: boolean | readonly SlowWasmKernel[];
}

/** Kernels registered by us, and the wasm backend's own registrations we replaced (to restore them). */
const ours = new Set<string>();
const replaced = new Map<string, KernelConfig>();
/** The options of the current registration, so that registering again with the same ones is free. */
let current: string | undefined;

function original(kernelName: string): KernelConfig | undefined {
  if (replaced.has(kernelName)) return replaced.get(kernelName);
  return ours.has(kernelName) ? undefined : getKernel(kernelName, 'wasm');
}

const plainMatMul: MatMul = (backend: BackendWasm, a: TensorInfo, b: TensorInfo) => {
  const kernel = original('BatchMatMul');
  if (!kernel) throw new Error("tfjs-backend-wasm has no BatchMatMul kernel: use registerWasmTrainingKernels({ gemm: 'js' }).");
  return kernel.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
};

function cpuFallback(kernelName: string): Fallback {
  return (args: KernelArgs) => runOnCpu(kernelName, args.inputs, args.backend, args.attrs);
}

function install(kernelName: string, kernelFunc: KernelFunc): void {
  const existing = getKernel(kernelName, 'wasm');
  if (existing && !ours.has(kernelName) && !replaced.has(kernelName)) replaced.set(kernelName, existing);
  if (existing) unregisterKernel(kernelName, 'wasm');
  registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  ours.add(kernelName);
}

/** The kernel serving `kernelName` for given options: ours, or a run of the cpu backend's kernel. */
function kernelFor(kernelName: string, mode: 'fast' | 'cpu-routed', gemm: GemmEngine): KernelFunc {
  const fallback = cpuFallback(kernelName);
  if (mode === 'cpu-routed') return fallback as unknown as KernelFunc;
  switch (kernelName) {
    case 'Conv2DBackpropFilter':
      return conv2dBackpropFilterKernel(gemm, plainMatMul, fallback);
    case 'Conv2DBackpropInput':
      return conv2dBackpropInputKernel(gemm, plainMatMul, fallback);
    case 'DepthwiseConv2dNativeBackpropFilter':
      return depthwiseBackpropFilterKernel(fallback);
    case 'DepthwiseConv2dNativeBackpropInput':
      return depthwiseBackpropInputKernel(fallback);
    case 'MaxPoolGrad':
      return maxPoolGradKernel(fallback);
    case 'Tile':
    case 'Sum':
    case 'Mean': {
      const own = getKernel(kernelName, 'wasm');
      if (!own) throw new Error(`tfjs-backend-wasm has no ${kernelName} kernel to fall back on`);
      return kernelName === 'Tile' ? tileKernel(builtin(own)) : reductionKernel(kernelName, builtin(own));
    }
    default:
      throw new Error(`no wasm training kernel for '${kernelName}'`);
  }
}

/**
 * Registers what CNN training needs on the wasm backend: the gradient kernels it lacks (conv2d filter,
 * depthwise filter and input), a correct max-pool gradient and, by default, a faster conv2d input
 * gradient. Call it before or after `tf.setBackend('wasm')`; calling it again switches the options. A
 * missing kernel that a future tfjs-backend-wasm provides itself is left alone.
 * Returns the names of the kernels now served by this module.
 * @example registerWasmTrainingKernels(); await tf.setBackend('wasm'); await model.fit(xs, ys);
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): string[] {
  const mode = options.mode ?? 'fast';
  const gemm = options.gemm ?? 'xnnpack';
  const slowOption = options.replaceSlowKernels ?? true;
  const slow: readonly string[] = mode !== 'fast' ? [] : slowOption === true ? SLOW_WASM_TRAINING_KERNELS : slowOption === false ? [] : slowOption;
  const key = `${mode}/${gemm}/${slow.join(',')}`;
  if (key === current) return [...ours];
  unregisterWasmTrainingKernels();
  const names: string[] = [
    ...MISSING_WASM_TRAINING_KERNELS.filter((name) => !getKernel(name, 'wasm')),
    ...BROKEN_WASM_TRAINING_KERNELS,
  ];
  names.push(...slow);
  for (const name of names) install(name, kernelFor(name, mode, gemm));
  current = key;
  return [...ours];
}

/** Removes this module's kernels and puts back any wasm kernel they replaced. */
export function unregisterWasmTrainingKernels(): void {
  current = undefined;
  for (const name of ours) unregisterKernel(name, 'wasm');
  ours.clear();
  // tfjs runs a kernel's setup (binding its wasm function) when a backend is set; a kernel we replaced
  // before that never had it run, so run it now if the wasm backend is already up.
  const wasm = (engine().registry as Record<string, KernelBackend | undefined>)['wasm'];
  for (const config of replaced.values()) {
    registerKernel(config);
    if (wasm) config.setupFunc?.(wasm);
  }
  replaced.clear();
}
