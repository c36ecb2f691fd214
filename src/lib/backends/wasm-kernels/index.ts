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
import { ACTIVATION_KERNELS, activationKernel } from './activations';
import { ADAM_STEP_KERNEL, adamStepKernel } from './adam';
import {
  BATCH_NORM_ACTIVATION_TRAINING_GRAD_KERNEL,
  BATCH_NORM_ACTIVATION_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
} from '../../../../models/backbones/batch-norm';
import { batchNormKernel, type ChannelAffine } from './batch-norm';
import { batchNormTrainingGradKernel, batchNormTrainingKernel } from './batch-norm-training';
import { channelBinaryKernel } from './channels';
import { COMPARISON_KERNELS, comparisonKernel, type Comparison } from './compare';
import { runOnCpu } from './cpu-routed';
import { depthwiseInputGradKernel, type DepthwiseForward } from './depthwise-xnnpack';
import {
  builtin,
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  conv2dKernel,
  fusedConv2dKernel,
  depthwiseBackpropFilterKernel,
  depthwiseBackpropInputKernel,
  depthwiseForwardKernel,
  maxPoolGradKernel,
  reductionKernel,
  whileLoupeConvolves,
  type ConvolutionGemm,
  type Fallback,
  type GemmEngine,
  type KernelArgs,
  type MatMul,
} from './kernels';
import { castKernel, identityKernel } from './share';
import { useRelaxedSimd } from './simd/module';
import { padKernel, sliceKernel, tileKernel } from './slice-pad';
import { useWinograd } from './winograd';

export type { ConvolutionGemm, GemmEngine } from './kernels';
export { runOnCpu } from './cpu-routed';
export { setIm2colBudget } from './conv2d';
export { gemmHelperCount, gemmHelperParts, relaxedSimdInUse, relaxedSimdSupported, startGemmHelpers, stopGemmHelpers } from './simd/module';
export { HELPER_PROGRAM, type HelperStart, type SpawnHelper } from './gemm-helpers';
export { ADAM_STEP_KERNEL, adamStepAvailable, adamStepTakes, type AdamStepAttrs } from './adam';

/** Gradient kernels that tfjs-backend-wasm 4.22 lacks, so conv/depthwise training fails on wasm without them. */
export const MISSING_WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

/**
 * Kernels tfjs-backend-wasm 4.22 has but that are slow where training needs them (docs/benchmarks.md):
 * Conv2DBackpropInput is a naive loop (~0.6 GFLOP/s); Tile works element by element and Sum/Mean over
 * non-trailing axes transpose the whole tensor first (BatchNorm's gradient does both on every layer);
 * Identity and same-dtype Cast copy (the engine clones every tensor saved for a gradient); comparisons
 * with a scalar take the generic broadcasting loop (ReLU6's gradient); FusedBatchNorm wraps an index per
 * parameter per element; Slice copies its whole input out of the heap (padded convolutions' gradients)
 * and PadV2 is slow for few channels.
 */
export const SLOW_WASM_TRAINING_KERNELS = [
  'Conv2DBackpropInput',
  'Tile',
  'Sum',
  'Mean',
  'Identity',
  'Cast',
  'FusedBatchNorm',
  'Slice',
  'PadV2',
  ...COMPARISON_KERNELS,
] as const;
export type SlowWasmKernel = (typeof SLOW_WASM_TRAINING_KERNELS)[number];

/**
 * Kernels replaced only with the SIMD kernels on (option `simd`): Multiply and Sub of a tensor by a vector
 * of its channels, which tfjs-backend-wasm 4.22 broadcasts element by element (channels.ts).
 */
export const SIMD_WASM_TRAINING_KERNELS = ['Multiply', 'Sub'] as const;

/**
 * Kernels tfjs-backend-wasm 4.22 has but computes wrongly: MaxPoolGrad loses the gradient of windows whose
 * values are all negative. Replaced in every mode (in `cpu-routed` mode by the cpu kernel).
 */
export const BROKEN_WASM_TRAINING_KERNELS = ['MaxPoolGrad'] as const;

const BATCH_NORM_KERNELS = [
  BATCH_NORM_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_ACTIVATION_TRAINING_KERNEL,
  BATCH_NORM_ACTIVATION_TRAINING_GRAD_KERNEL,
];

export interface WasmTrainingKernelOptions {
  /**
   * `fast` (default): this folder's kernels. `cpu-routed`: the missing kernels run tfjs's cpu kernels on
   * copies of the data (the naive fallback; kept for benchmarks and as a baseline in tests).
   */
  mode?: 'fast' | 'cpu-routed';
  /** Where conv2d gradients multiply: the wasm backend's XNNPACK GEMM (default) or TypeScript loops. */
  gemm?: GemmEngine;
  /**
   * Where the input gradient of a stride-1 depthwise convolution runs: as XNNPACK's forward depthwise
   * convolution of dy with the turned filter, or in TypeScript loops (other strides always are).
   * Default: the same as `gemm`.
   */
  depthwiseInputGradient?: GemmEngine;
  /**
   * Run the loops that have one on Loupe's own wasm SIMD kernels (simd/*.wat) on the backend's heap, and
   * register Loupe's fused kernels — ConstantsAdam's update (adam.ts), hard-swish/hard-sigmoid
   * (activations.ts), BatchNorm's training step (batch-norm-training.ts) — which their callers use where
   * registered. false keeps the stop-19 set: TypeScript loops, composed ops (for comparison). Default true;
   * without wasm SIMD the TypeScript loops serve anyway.
   */
  simd?: boolean;
  /**
   * Also replace the slow kernels of tfjs-backend-wasm (all of SLOW_WASM_TRAINING_KERNELS, or those
   * listed). Default true; mode `fast` only.
   */
  replaceSlowKernels?: boolean | readonly SlowWasmKernel[];
  /**
   * Where Conv2D's forward pass and input gradient multiply when the SIMD kernels are on: `loupe`, Loupe's
   * GEMM (simd/gemm.wat, on the helper threads too where `startGemmHelpers` started them), `xnnpack`, the
   * backend's own (threaded), or `auto`: Loupe's while helper threads run, else XNNPACK's. The filter
   * gradient is always Loupe's. Default: DEFAULT_CONVOLUTION_GEMM.
   */
  convolutions?: ConvolutionGemm;
  /**
   * Let the GEMMs use relaxed SIMD's fused multiply-add where the runtime has it (Chromium; Node with
   * `--experimental-wasm-relaxed-simd`). Default true since the GEMMs own every convolution on every core:
   * it is correct in Node and in Chromium's trainer worker (docs/benchmarks.md, "Stop 23"), the dual
   * ResNet18 step measured faster with it in three of three pairs, and the coin run passes its bounds at
   * four seeds either way ("Stop 27"). false keeps one rounding per multiply and one per add everywhere.
   */
  relaxedSimd?: boolean;
  /**
   * On Loupe's convolution path (`convolutions` above, when it is in use), run stride-1 3×3 convolutions —
   * forward and both gradients — as Winograd F(4×4, 3×3) (winograd.ts): 4× fewer multiply-adds, results
   * within ~2·10⁻⁵ of the direct float32 sum. Default true; false keeps im2col + GEMM (benches compare).
   */
  winograd?: boolean;
}

/**
 * See `convolutions` above. On one thread XNNPACK's threaded kernels and Loupe's were even (docs/benchmarks.md,
 * "Stop 22"); with helper threads Loupe's GEMM owns every convolution and XNNPACK's threads stop
 * competing with ours ("Stop 27").
 */
export const DEFAULT_CONVOLUTION_GEMM: ConvolutionGemm = 'auto';

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

const channelAffine: ChannelAffine = (backend, x, filter, bias) => {
  const kernel = original('FusedDepthwiseConv2D');
  if (!kernel) throw new Error('tfjs-backend-wasm has no FusedDepthwiseConv2D kernel: register with replaceSlowKernels without FusedBatchNorm.');
  const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear' };
  return builtin(kernel)({ inputs: { x, filter, bias }, backend, attrs });
};

const depthwiseForward: DepthwiseForward = (backend, x, filter, pad) => {
  const kernel = original('DepthwiseConv2dNative');
  if (!kernel) throw new Error("tfjs-backend-wasm has no DepthwiseConv2dNative kernel: use registerWasmTrainingKernels({ depthwiseInputGradient: 'js' }).");
  return builtin(kernel)({ inputs: { x, filter }, backend, attrs: { strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC' } });
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

/** Ours for the cases `make` handles, the wasm backend's own kernel (which must exist) for the rest. */
function wasmOwn(kernelName: string, make: (fallback: Fallback) => KernelFunc): KernelFunc {
  const own = original(kernelName);
  if (!own) throw new Error(`tfjs-backend-wasm has no ${kernelName} kernel to fall back on`);
  return make(builtin(own));
}

/** The kernel serving `kernelName` for given options: ours, or a run of the cpu backend's kernel. */
function kernelFor(kernelName: string, mode: 'fast' | 'cpu-routed', gemm: GemmEngine, depthwiseInput: GemmEngine, simd: boolean, convolutions: ConvolutionGemm): KernelFunc {
  const fallback = cpuFallback(kernelName);
  if (mode === 'cpu-routed') return fallback as unknown as KernelFunc;
  switch (kernelName) {
    case 'Conv2DBackpropFilter':
      return conv2dBackpropFilterKernel(gemm, plainMatMul, fallback, simd, convolutions);
    case 'Conv2DBackpropInput':
      return conv2dBackpropInputKernel(gemm, plainMatMul, fallback, convolutions);
    case 'Conv2D':
      return wasmOwn(kernelName, (fallback) => conv2dKernel(fallback, convolutions));
    case 'FusedConv2D':
      return wasmOwn(kernelName, (fallback) => fusedConv2dKernel(fallback, convolutions));
    case 'DepthwiseConv2dNativeBackpropFilter':
      return depthwiseBackpropFilterKernel(fallback, simd);
    case 'DepthwiseConv2dNative':
      return wasmOwn(kernelName, (fallback) => depthwiseForwardKernel(fallback, convolutions));
    case 'DepthwiseConv2dNativeBackpropInput': {
      const loupe = depthwiseBackpropInputKernel(fallback, simd);
      if (depthwiseInput !== 'xnnpack') return loupe;
      // Loupe's SIMD kernel on every core while its convolution path runs; else XNNPACK's forward, turned.
      return whileLoupeConvolves(convolutions, loupe, depthwiseInputGradKernel(depthwiseForward, loupe as unknown as Fallback));
    }
    case 'MaxPoolGrad':
      return maxPoolGradKernel(fallback, simd);
    case 'Tile':
    case 'Sum':
    case 'Mean': {
      const own = getKernel(kernelName, 'wasm');
      if (!own) throw new Error(`tfjs-backend-wasm has no ${kernelName} kernel to fall back on`);
      return kernelName === 'Tile' ? tileKernel(builtin(own)) : reductionKernel(kernelName, builtin(own), simd);
    }
    case 'Identity':
      return wasmOwn(kernelName, identityKernel);
    case 'Cast':
      return wasmOwn(kernelName, castKernel);
    case 'FusedBatchNorm':
      return wasmOwn(kernelName, (fallback) => batchNormKernel(channelAffine, fallback));
    case 'Slice':
      return wasmOwn(kernelName, sliceKernel);
    case 'PadV2':
      return wasmOwn(kernelName, padKernel);
    case 'Less':
    case 'LessEqual':
    case 'Greater':
    case 'GreaterEqual':
    case 'Equal':
    case 'NotEqual':
      return wasmOwn(kernelName, (fallback) => comparisonKernel(kernelName as Comparison, fallback));
    case 'Multiply':
    case 'Sub':
      return wasmOwn(kernelName, (fallback) => channelBinaryKernel(kernelName, fallback));
    case ADAM_STEP_KERNEL:
      return adamStepKernel();
    case BATCH_NORM_TRAINING_KERNEL:
    case BATCH_NORM_ACTIVATION_TRAINING_KERNEL:
      return batchNormTrainingKernel(kernelName);
    case BATCH_NORM_TRAINING_GRAD_KERNEL:
    case BATCH_NORM_ACTIVATION_TRAINING_GRAD_KERNEL:
      return batchNormTrainingGradKernel(kernelName);
    default:
      if (ACTIVATION_KERNELS.includes(kernelName)) return activationKernel(kernelName);
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
  const depthwiseInput = options.depthwiseInputGradient ?? gemm;
  const slowOption = options.replaceSlowKernels ?? true;
  const slow: readonly string[] = mode !== 'fast' ? [] : slowOption === true ? SLOW_WASM_TRAINING_KERNELS : slowOption === false ? [] : slowOption;
  const simd = options.simd ?? true;
  const convolutions: ConvolutionGemm = mode === 'fast' && simd && gemm === 'xnnpack' ? (options.convolutions ?? DEFAULT_CONVOLUTION_GEMM) : 'xnnpack';
  const relaxed = options.relaxedSimd ?? true;
  useRelaxedSimd(relaxed);
  useWinograd(options.winograd ?? true);
  const key = `${mode}/${gemm}/${depthwiseInput}/${simd}/${convolutions}/${relaxed}/${slow.join(',')}`;
  if (key === current) return [...ours];
  unregisterWasmTrainingKernels();
  const names: string[] = [
    ...MISSING_WASM_TRAINING_KERNELS.filter((name) => !getKernel(name, 'wasm')),
    ...BROKEN_WASM_TRAINING_KERNELS,
  ];
  names.push(...slow);
  // Loupe's own kernels beside tfjs's: ConstantsAdam's one-call update (adam.ts), MobileNetV3's
  // hard-swish/hard-sigmoid (activations.ts) and BatchNorm's training step, alone or with the activation
  // after it (batch-norm-training.ts), each way; their callers use them where registered.
  if (mode === 'fast' && simd) {
    names.push(...SIMD_WASM_TRAINING_KERNELS, ADAM_STEP_KERNEL, ...ACTIVATION_KERNELS, ...BATCH_NORM_KERNELS);
  }
  if (convolutions !== 'xnnpack') names.push('Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative');
  for (const name of names) install(name, kernelFor(name, mode, gemm, depthwiseInput, simd, convolutions));
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
