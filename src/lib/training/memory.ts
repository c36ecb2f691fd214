import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '$lib/db/types';
import { BATCH_NORM_TRAINING_KERNEL } from '$models/backbones/batch-norm';

/**
 * What a wasm training step holds, layer by layer (docs/benchmarks.md, "Micro-batches"): tfjs keeps each
 * op's output for the backward pass, so every layer costs bytes per float of its output, and a layer that
 * runs as several ops (its backward several more) costs more than one that runs as one kernel each way.
 * Fitted to the wasm heap after two steps, with the weights' share (below) taken off: dual
 * MobileNetV3-Small 8.7–10.2 bytes per float (128² b16, 224² b8, 128² b4; 8 % of its outputs are ReLUs),
 * dual ResNet18 12.1 (128² b8; 23 % ReLUs) → 8 for one-kernel layers and 26 for composed ones, rounded up
 * here to 10 and 30. Without Loupe's fused kernels BatchNorm and hard-swish are composed too (28–31 bytes
 * per float over a whole MobileNetV3 measured then).
 */
const FUSED_BYTES_PER_FLOAT = 10;
const COMPOSED_BYTES_PER_FLOAT = 30;
/** Layers whose forward and backward are several tfjs ops: a capped ReLU's gradient alone is two comparisons, a cast and a multiply. */
const ALWAYS_COMPOSED = new Set(['Activation', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU', 'Softmax']);
/**
 * Layers that run as one kernel each way where Loupe's wasm kernels are registered, composed elsewhere:
 * BatchNorm (with the activation after it, where it has one), hard-swish, hard-sigmoid, and ReLU without
 * a cap (its gradient is `LoupeReluGrad`, since stop 30).
 */
const FUSED_WITH_LOUPE_KERNELS = new Set(['BatchNormalization', 'HardSwish', 'HardSigmoid', 'ReLU']);

/** Weights, their gradients and Adam's two slots: 16 bytes per parameter. */
const BYTES_PER_PARAMETER = 16;

/**
 * The wasm heap is 32-bit (4 GiB at most) and an out-of-memory there aborts the whole module, so a step is
 * sized to 3 GiB of estimate, leaving a quarter for fragmentation, the input batches and what the estimate misses.
 */
const WASM_STEP_BUDGET_BYTES = 3 * 1024 ** 3;

function bytesPerFloat(layer: tf.layers.Layer, fused: boolean): number {
  const kind = layer.getClassName();
  if (ALWAYS_COMPOSED.has(kind) || (kind === 'ReLU' && layer.getConfig()['maxValue'] != null)) return COMPOSED_BYTES_PER_FLOAT;
  if (FUSED_WITH_LOUPE_KERNELS.has(kind) && !fused) return COMPOSED_BYTES_PER_FLOAT;
  return FUSED_BYTES_PER_FLOAT;
}

function outputFloats(layer: tf.layers.Layer): number {
  const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
  let total = 0;
  for (const shape of shapes) total += shape.slice(1).reduce<number>((product, d) => product * (d ?? 1), 1);
  return total;
}

/** Bytes of wasm heap one example adds to a training step, summed layer by layer (a shared sub-model once per call). */
export function stepBytesPerExample(model: tf.LayersModel, fused = tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'wasm') !== undefined): number {
  let total = 0;
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) total += stepBytesPerExample(layer, fused) * Math.max(1, layer.inboundNodes.length - 1);
    else total += outputFloats(layer) * bytesPerFloat(layer, fused);
  }
  return total;
}

/** Floats of every layer output for one example; a nested model counts once per call (a shared backbone twice). */
export function activationFloatsPerExample(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      // A functional model's first inbound node links its own inputs; the others are its calls.
      total += activationFloatsPerExample(layer) * Math.max(1, layer.inboundNodes.length - 1);
      continue;
    }
    total += outputFloats(layer);
  }
  return total;
}

/**
 * Examples per gradient computation so that a training step fits the backend's memory, or undefined when
 * the whole batch fits (or the backend has no fixed limit: GPU memory is not known up front, and the cpu
 * backend uses the JavaScript heap).
 */
export function microBatchFor(model: tf.LayersModel, backend: BackendName, batchSize: number): number | undefined {
  if (backend !== 'wasm') return undefined;
  const room = WASM_STEP_BUDGET_BYTES - model.countParams() * BYTES_PER_PARAMETER;
  const fits = Math.max(1, Math.floor(room / stepBytesPerExample(model)));
  if (fits >= batchSize) return undefined;
  // The fewest slices that fit, as even as possible: 16 examples with room for 7 → 6, 6, 4 (not 7, 7, 2).
  return Math.ceil(batchSize / Math.ceil(batchSize / fits));
}
