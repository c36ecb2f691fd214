import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import { augmentRgb, type AugmentOptions } from '$lib/images/augment';
import { decodeRgb } from '$lib/images/decode';
import { normalizeImageNet } from '$models/index';

/** What image tasks share: batches of decoded, augmented, normalised images, and backbone disposal. */

export /** Decodes one image per row (blob `index`), augments when training, returns [n, size, size, 3] normalized. */
async function imageBatch(
  rows: SampleRow[],
  index: number,
  size: number,
  augment: AugmentOptions | undefined,
  random: (() => number) | undefined,
): Promise<tf.Tensor4D> {
  const pixels = new Float32Array(rows.length * size * size * 3);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const blob = row.blobs?.[index];
    if (!blob) throw new Error(`sample ${row.path} has no image ${index + 1}`);
    const { data } = await decodeRgb(blob, size, row.path, { sample: i, image: index });
    pixels.set(augment && random ? augmentRgb(data, size, random, augment) : data, i * size * size * 3);
  }
  return tf.tidy(() => normalizeImageNet(tf.tensor4d(pixels, [rows.length, size, size, 3])));
}

export /**
 * A backbone applied to two inputs holds two references, and disposing the outer model releases one:
 * release the rest so no weight outlives the model.
 */
function disposeWithBackbones(model: tf.LayersModel, backbones: { model: tf.LayersModel }[]): void {
  model.dispose();
  for (const { model: nested } of backbones) {
    try {
      while (nested.dispose().refCountAfterDispose > 0);
    } catch {
      // Already disposed through the outer model.
    }
  }
}
