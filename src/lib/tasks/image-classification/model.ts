import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import type { Augmentation, SmallCnnAugmentation } from '$lib/db/specs';
import { augmentRgb, NO_AUGMENTATION, resolveAugmentation, type AugmentOptions } from '$lib/images/augment';
import { decodeRgb } from '$lib/images/decode';
import { createDamageClassifier, damageClassifierMetadata, type DamageClassifierConfig } from '$models/index';
import { createSmallCnn, smallCnnMetadata, type SmallCnnConfig } from '$models/small-cnn';
import { softmaxClassifier } from '../classification';
import { disposeWithBackbones, imageBatch } from '../images';
import type { TaskDefinition, TrainableModel } from '../types';

/** Photos of most subjects survive mirroring and small turns and lighting changes. */
export const IMAGE_AUGMENTATION: AugmentOptions = { flip: true, rotateDegrees: 8, brightness: 0.2, contrast: 0.2 };

/** A pretrained-architecture backbone (ResNet18, MobileNetV3-Small) with a softmax head over any label list. */
export function backboneClassifier(task: TaskDefinition, config: DamageClassifierConfig, augment = IMAGE_AUGMENTATION, loaded?: tf.LayersModel): TrainableModel {
  const { model, metadata, backbone } = loaded
    ? { model: loaded, metadata: damageClassifierMetadata(loaded), backbone: undefined }
    : createDamageClassifier(config);
  const { inputSize, labels } = metadata;
  return {
    ...softmaxClassifier({
      task,
      model,
      metadata: { ...metadata, task: task.name, architecture: 'damage-classifier' },
      labels,
      toInputs: (rows, { training, random }) => imageBatch(rows, 0, inputSize, training ? augment : undefined, random),
      dispose: () => disposeWithBackbones(model, backbone ? [backbone] : []),
    }),
    augmentation: augment,
  };
}

/** How a small CNN's training images are augmented: not at all, mirrored only, or the damage policy. */
export type { SmallCnnAugmentation } from '$lib/db/specs';

export const SMALL_CNN_AUGMENTATION: Record<SmallCnnAugmentation, AugmentOptions> = {
  none: NO_AUGMENTATION,
  flip: { ...NO_AUGMENTATION, flip: true },
  default: IMAGE_AUGMENTATION,
};

/**
 * RGB pixels (size × size × 3 bytes per image) → the small CNN's input [n, size, size, channels] in
 * [0, 1], augmented when `augment` and `random` are given. Grey (channels 1) is the mean of R, G and B:
 * exact for grey sources, which decoders hand back as R = G = B.
 */
export function smallCnnInput(images: readonly Uint8Array[], size: number, channels: 1 | 3, augment?: AugmentOptions, random?: () => number): tf.Tensor4D {
  const area = size * size;
  const pixels = new Float32Array(images.length * area * channels);
  images.forEach((data, i) => {
    if (data.length !== area * 3) throw new RangeError(`image ${i + 1} has ${data.length} bytes; ${size}×${size} RGB needs ${area * 3}`);
    const rgb = augment && random ? augmentRgb(data, size, random, augment) : data;
    const offset = i * area * channels;
    if (channels === 3) {
      for (let j = 0; j < area * 3; j++) pixels[offset + j] = rgb[j]! / 255;
    } else {
      for (let j = 0; j < area; j++) pixels[offset + j] = (rgb[3 * j]! + rgb[3 * j + 1]! + rgb[3 * j + 2]!) / 765;
    }
  });
  return tf.tensor4d(pixels, [images.length, size, size, channels]);
}

async function smallCnnBatch(rows: SampleRow[], size: number, channels: 1 | 3, augment: AugmentOptions | undefined, random: (() => number) | undefined): Promise<tf.Tensor4D> {
  const images: Uint8Array[] = [];
  for (const [i, row] of rows.entries()) {
    const blob = row.blobs?.[0];
    if (!blob) throw new Error(`sample ${row.path} has no image`);
    images.push((await decodeRgb(blob, size, row.path, { sample: i, image: 0 })).data);
  }
  return smallCnnInput(images, size, channels, augment, random);
}

/**
 * The small CNN (any label set, grey or RGB input) as a trainable model of image classification.
 * @example const trainable = smallCnnTrainable({ labels: ['shirt', 'shoe'], inputSize: 28, channels: 1 });
 */
export function smallCnnTrainable(task: TaskDefinition, config: SmallCnnConfig, augmentation: Augmentation = 'default', loaded?: tf.LayersModel): TrainableModel {
  const { model, metadata } = loaded ? { model: loaded, metadata: smallCnnMetadata(loaded) } : createSmallCnn(config);
  const { inputSize, channels, labels } = metadata;
  const augment = resolveAugmentation(augmentation, IMAGE_AUGMENTATION);
  return {
    ...softmaxClassifier({
      task,
      model,
      metadata: { ...metadata, task: task.name },
      labels,
      toInputs: (rows, { training, random }) => smallCnnBatch(rows, inputSize, channels, training ? augment : undefined, random),
    }),
    augmentation: augment,
  };
}
