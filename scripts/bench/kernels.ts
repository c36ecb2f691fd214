import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, type WasmTrainingKernelOptions } from '../../src/lib/backends/wasm-kernels/index';
import { median } from './env';

interface Variant {
  id: string;
  options: WasmTrainingKernelOptions;
}

interface KernelCase {
  kernel: string;
  /** The layer it comes from, in MobileNetV3-Small at 128², batch 16. */
  layer: string;
  inputs: Record<string, number[]>;
  attrs: Record<string, unknown>;
  /** Multiply-adds (0 for data movement kernels). */
  macs: number;
  variants: Variant[];
}

export interface KernelResult {
  kernel: string;
  layer: string;
  variant: string;
  medianMs: number;
  gflops: number | null;
  speedup: number;
}

const CPU_ROUTED: Variant = { id: 'cpu-routed', options: { mode: 'cpu-routed' } };
const WASM_BUILTIN: Variant = { id: 'tfjs-wasm builtin', options: { replaceSlowKernels: false } };
const TS: Variant = { id: 'ours, TS', options: { gemm: 'js', simd: false } };
const XNNPACK: Variant = { id: 'ours, TS + XNNPACK GEMM', options: { gemm: 'xnnpack', simd: false } };
/** Loupe's wasm SIMD kernels (simd/*.wat) where they apply: the default. */
const SIMD: Variant = { id: 'ours, wasm SIMD', options: {} };

function conv(kernel: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput', layer: string, x: number[], filter: number[], strides: number, pad: 'same' | 'valid'): KernelCase {
  const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], strides, 1, pad);
  const macs = info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const common = { strides, pad, dataFormat: 'NHWC' };
  return kernel === 'Conv2DBackpropFilter'
    ? { kernel, layer, inputs: { x, dy: info.outShape }, attrs: { ...common, filterShape: filter }, macs, variants: [CPU_ROUTED, TS, XNNPACK, SIMD] }
    : { kernel, layer, inputs: { dy: info.outShape, filter }, attrs: { ...common, inputShape: x }, macs, variants: [WASM_BUILTIN, TS, XNNPACK] };
}

function depthwise(kernel: 'DepthwiseConv2dNativeBackpropFilter' | 'DepthwiseConv2dNativeBackpropInput', layer: string, x: number[], filter: number[], strides: number, pad: 'same' | 'valid'): KernelCase {
  const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], strides, 1, pad, undefined, true);
  const macs = info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.outChannels;
  const common = { strides, pad, dilations: 1 };
  return kernel === 'DepthwiseConv2dNativeBackpropFilter'
    ? { kernel, layer, inputs: { x, dy: info.outShape }, attrs: { ...common, filterShape: filter }, macs, variants: [CPU_ROUTED, TS, SIMD] }
    : { kernel, layer, inputs: { dy: info.outShape, filter }, attrs: { ...common, inputShape: x }, macs, variants: [CPU_ROUTED, TS, SIMD] };
}

function forward(kernel: 'Conv2D' | 'DepthwiseConv2dNative', layer: string, x: number[], filter: number[], strides: number, pad: 'same' | 'valid'): KernelCase {
  const depthwise = kernel === 'DepthwiseConv2dNative';
  const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], strides, 1, pad, undefined, depthwise);
  const macs = info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * (depthwise ? 1 : info.inChannels) * info.outChannels;
  return { kernel, layer, inputs: { x, filter }, attrs: { strides, pad, dilations: 1, dataFormat: 'NHWC' }, macs, variants: [WASM_BUILTIN] };
}

const GEMM_XNNPACK: Variant = { id: 'XNNPACK (threaded)', options: { convolutions: 'xnnpack' } };
const GEMM_OURS: Variant = { id: 'Loupe GEMM, mul+add', options: { convolutions: 'loupe', relaxedSimd: false } };
const GEMM_FMA: Variant = { id: 'Loupe GEMM, relaxed FMA', options: { convolutions: 'loupe', relaxedSimd: true } };

/**
 * ResNet18's convolutions at 128², batch 16 (its ~90 % of a step): forward and both gradients, XNNPACK vs
 * Loupe's GEMM; and its stem max pool's gradient, TypeScript vs SIMD.
 */
export function resnetCases(batch = 16): KernelCase[] {
  const b = batch;
  const layers: [string, number[], number[], number, 'same' | 'valid'][] = [
    ['stem 7×7/2, 3→64', [b, 128, 128, 3], [7, 7, 3, 64], 2, 'same'],
    ['layer1 3×3, 64→64 @32²', [b, 32, 32, 64], [3, 3, 64, 64], 1, 'same'],
    ['layer2 3×3/2, 64→128 @32²', [b, 32, 32, 64], [3, 3, 64, 128], 2, 'same'],
    ['layer2 3×3, 128→128 @16²', [b, 16, 16, 128], [3, 3, 128, 128], 1, 'same'],
    ['layer3 3×3, 256→256 @8²', [b, 8, 8, 256], [3, 3, 256, 256], 1, 'same'],
    ['layer4 3×3, 512→512 @4²', [b, 4, 4, 512], [3, 3, 512, 512], 1, 'same'],
    ['layer4 downsample 1×1/2, 256→512', [b, 8, 8, 256], [1, 1, 256, 512], 2, 'valid'],
  ];
  const cases: KernelCase[] = [];
  for (const [layer, x, filter, strides, pad] of layers) {
    const fwd = forward('Conv2D', layer, x, filter, strides, pad);
    cases.push({ ...fwd, variants: [GEMM_XNNPACK, GEMM_OURS, GEMM_FMA] });
    if (!layer.startsWith('stem')) cases.push({ ...conv('Conv2DBackpropInput', layer, x, filter, strides, pad), variants: [GEMM_XNNPACK, GEMM_OURS, GEMM_FMA] });
    cases.push({ ...conv('Conv2DBackpropFilter', layer, x, filter, strides, pad), variants: [GEMM_OURS, GEMM_FMA] });
  }
  // Our MaxPoolGrad reads only dy and the input (the pooled output is there for the kernel's signature).
  const pooled = [b, 32, 32, 64];
  cases.push({
    kernel: 'MaxPoolGrad',
    layer: 'stem max pool 3×3/2 pad 1, 64 @64²',
    inputs: { dy: pooled, input: [b, 64, 64, 64], output: pooled },
    attrs: { filterSize: [3, 3], strides: [2, 2], pad: 1 },
    macs: 0,
    variants: [TS, SIMD],
  });
  return cases;
}

/** Layers of MobileNetV3-Small at 128², batch 16 (torch-style padding: stride-2 convs see a padded input). */
export function kernelCases(batch = 16): KernelCase[] {
  const b = batch;
  return [
    conv('Conv2DBackpropFilter', 'stem 3×3/2, 3→16', [b, 130, 130, 3], [3, 3, 3, 16], 2, 'valid'),
    conv('Conv2DBackpropFilter', 'expand 1×1, 16→72 @32²', [b, 32, 32, 16], [1, 1, 16, 72], 1, 'valid'),
    conv('Conv2DBackpropFilter', 'project 1×1, 240→40 @8²', [b, 8, 8, 240], [1, 1, 240, 40], 1, 'valid'),
    conv('Conv2DBackpropFilter', 'last 1×1, 96→576 @4²', [b, 4, 4, 96], [1, 1, 96, 576], 1, 'valid'),
    conv('Conv2DBackpropInput', 'expand 1×1, 16→72 @32²', [b, 32, 32, 16], [1, 1, 16, 72], 1, 'valid'),
    conv('Conv2DBackpropInput', 'project 1×1, 240→40 @8²', [b, 8, 8, 240], [1, 1, 240, 40], 1, 'valid'),
    conv('Conv2DBackpropInput', 'last 1×1, 96→576 @4²', [b, 4, 4, 96], [1, 1, 96, 576], 1, 'valid'),
    conv('Conv2DBackpropInput', '3×3/1 same, 32→32 @32² (ResNet-like)', [b, 32, 32, 32], [3, 3, 32, 32], 1, 'same'),
    depthwise('DepthwiseConv2dNativeBackpropFilter', 'dw 3×3/2, 16 @64²', [b, 66, 66, 16], [3, 3, 16, 1], 2, 'valid'),
    depthwise('DepthwiseConv2dNativeBackpropFilter', 'dw 5×5/1, 240 @8²', [b, 8, 8, 240], [5, 5, 240, 1], 1, 'same'),
    depthwise('DepthwiseConv2dNativeBackpropInput', 'dw 3×3/2, 16 @64²', [b, 66, 66, 16], [3, 3, 16, 1], 2, 'valid'),
    depthwise('DepthwiseConv2dNativeBackpropInput', 'dw 5×5/1, 240 @8²', [b, 8, 8, 240], [5, 5, 240, 1], 1, 'same'),
    // For scale: the forward passes of the same layers, which tfjs-backend-wasm runs on XNNPACK (SIMD).
    forward('Conv2D', 'expand 1×1, 16→72 @32² (forward)', [b, 32, 32, 16], [1, 1, 16, 72], 1, 'valid'),
    forward('DepthwiseConv2dNative', 'dw 5×5/1, 240 @8² (forward)', [b, 8, 8, 240], [5, 5, 240, 1], 1, 'same'),
    { kernel: 'Tile', layer: 'BN grad: [1,1,1,16] → [16,64,64,16]', inputs: { x: [1, 1, 1, 16] }, attrs: { reps: [b, 64, 64, 1] }, macs: 0, variants: [WASM_BUILTIN, TS] },
    { kernel: 'Sum', layer: 'BN grad: [16,64,64,16] over [0,1,2]', inputs: { x: [b, 64, 64, 16] }, attrs: { axis: [0, 1, 2], keepDims: false }, macs: 0, variants: [WASM_BUILTIN, TS, SIMD] },
    { kernel: 'Mean', layer: 'BN moments: [16,64,64,16] over [0,1,2]', inputs: { x: [b, 64, 64, 16] }, attrs: { axis: [0, 1, 2], keepDims: true }, macs: 0, variants: [WASM_BUILTIN, TS, SIMD] },
    { kernel: 'Mean', layer: 'global pool: [16,4,4,576] over [1,2]', inputs: { x: [b, 4, 4, 576] }, attrs: { axis: [1, 2], keepDims: false }, macs: 0, variants: [WASM_BUILTIN, TS, SIMD] },
  ];
}

/**
 * Times each kernel case on the wasm backend under each of its variants (the first is the baseline),
 * taking turns so load changes hit all variants alike; median of `reps` runs after one warm-up run.
 */
export async function benchKernels(cases: KernelCase[], reps: number): Promise<KernelResult[]> {
  await tf.setBackend('wasm');
  const results: KernelResult[] = [];
  for (const c of cases) {
    const inputs: Record<string, tf.Tensor> = {};
    let seed = 1;
    for (const [name, shape] of Object.entries(c.inputs)) inputs[name] = tf.randomNormal(shape, 0, 1, 'float32', seed++);
    const times = new Map<string, number[]>(c.variants.map((v) => [v.id, []]));
    for (let rep = -1; rep < reps; rep++) {
      for (const variant of c.variants) {
        registerWasmTrainingKernels(variant.options);
        const start = performance.now();
        const out = tf.engine().runKernel(c.kernel, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor;
        out.dataSync();
        const ms = performance.now() - start;
        out.dispose();
        if (rep >= 0) times.get(variant.id)!.push(ms);
      }
    }
    tf.dispose(Object.values(inputs));
    const baseline = median(times.get(c.variants[0]!.id)!);
    for (const variant of c.variants) {
      const ms = median(times.get(variant.id)!);
      results.push({
        kernel: c.kernel,
        layer: c.layer,
        variant: variant.id,
        medianMs: Math.round(ms * 100) / 100,
        gflops: c.macs ? Math.round(((2 * c.macs) / (ms / 1000) / 1e9) * 100) / 100 : null,
        speedup: Math.round((baseline / ms) * 10) / 10,
      });
    }
    console.log(`  ${c.kernel} (${c.layer}) done`);
  }
  registerWasmTrainingKernels();
  return results;
}
