import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '$lib/db/types';
import { BATCH_NORM_TRAINING_KERNEL } from '$models/backbones/batch-norm';

/**
 * Bytes a wasm training step holds per float of the model's layer outputs: tfjs keeps every op's output
 * for the backward pass, then the gradients and the heap's growth slack come on top. Measured as the wasm
 * heap after two steps (docs/benchmarks.md, "Micro-batches"), rounded up:
 * - with Loupe's fused layers (BatchNorm and hard-swish one kernel each way, registered with the wasm
 *   training kernels): 9.2 (dual MobileNetV3-Small, 128² batch 16), 9.7 (224² batch 8), 12.3 (128² batch 4),
 *   19.0 (dual ResNet18 128² batch 8, whose ReLUs are not fused) → 24;
 * - without them (a BatchNorm or hard-swish layer is several ops): 28.2–30.8 → 32.
 */
function wasmBytesPerActivation(): number {
  return tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'wasm') ? 24 : 32;
}

/**
 * The wasm heap is 32-bit (4 GiB at most) and an out-of-memory there aborts the whole module, so a step
 * is sized to leave half of it for the weights, optimizer slots, input batches and fragmentation.
 */
const WASM_STEP_BUDGET_BYTES = 2 * 1024 ** 3;

/** Floats of every layer output for one example; a nested model counts once per call (a shared backbone twice). */
export function activationFloatsPerExample(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      // A functional model's first inbound node links its own inputs; the others are its calls.
      total += activationFloatsPerExample(layer) * Math.max(1, layer.inboundNodes.length - 1);
      continue;
    }
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    for (const shape of shapes) total += shape.slice(1).reduce<number>((product, d) => product * (d ?? 1), 1);
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
  const perExample = activationFloatsPerExample(model) * wasmBytesPerActivation();
  const fits = Math.max(1, Math.floor(WASM_STEP_BUDGET_BYTES / perExample));
  if (fits >= batchSize) return undefined;
  // The fewest slices that fit, as even as possible: 16 examples with room for 7 → 6, 6, 4 (not 7, 7, 2).
  return Math.ceil(batchSize / Math.ceil(batchSize / fits));
}
