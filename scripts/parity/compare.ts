import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BACKBONE_KINDS, createBackbone, type BackboneKind } from '../../models/backbones/index';
import { countParameters } from '../../models/backbones/params';
import { loadTorchWeights } from '../../models/weights/loader';
import { parseSafetensors } from '../../models/weights/safetensors';

export interface ParityResult {
  backbone: BackboneKind;
  /** Our trainable parameters. */
  params: number;
  /** torchvision's parameters without the classifier. */
  torchParams: number;
  /** max |ours − torch| over the pooled features of the reference batch. */
  maxAbsDiff: number;
}

/** Largest |Δ| allowed between our features and torchvision's. */
export const PARITY_TOLERANCE = 1e-4;

/**
 * Loads the reference written by make_reference.py into each backbone and compares features on the
 * current tfjs backend (set it first; cpu is the reference).
 * @example const results = await compareWithTorch('models/fixtures/generated');
 */
export async function compareWithTorch(dir: string, kinds: readonly BackboneKind[] = BACKBONE_KINDS): Promise<ParityResult[]> {
  const reference = parseSafetensors(readFileSync(join(dir, 'parity.safetensors')));
  const input = reference.tensors.get('input');
  if (!input) throw new Error(`${dir}/parity.safetensors has no 'input' tensor; regenerate it with make_reference.py`);
  const [, , size] = input.shape as [number, number, number, number];
  // torch is NCHW, our backbones NHWC.
  const images = tf.tidy(() => tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1]));

  const results: ParityResult[] = [];
  try {
    for (const kind of kinds) {
      const expected = reference.tensors.get(kind);
      if (!expected) throw new Error(`${dir}/parity.safetensors has no '${kind}' output`);
      const backbone = createBackbone(kind, { inputSize: size });
      try {
        loadTorchWeights(backbone, parseSafetensors(readFileSync(join(dir, `${kind}.safetensors`))));
        const maxAbsDiff = tf.tidy(() => {
          const ours = backbone.model.predict(images) as tf.Tensor;
          return tf.max(tf.abs(tf.sub(ours, tf.tensor(expected.data, expected.shape)))).dataSync()[0]!;
        });
        results.push({
          backbone: kind,
          params: countParameters(backbone.model).trainable,
          torchParams: Number(reference.metadata[`${kind}.params`]),
          maxAbsDiff,
        });
      } finally {
        backbone.model.dispose();
      }
    }
  } finally {
    images.dispose();
  }
  return results;
}

/** Whether a result is within tolerance and the parameter counts agree. */
export function parityHolds(result: ParityResult): boolean {
  return result.params === result.torchParams && result.maxAbsDiff <= PARITY_TOLERANCE;
}
