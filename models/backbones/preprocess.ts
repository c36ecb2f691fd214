import * as tf from '@tensorflow/tfjs';

/** torchvision's ImageNet statistics, per RGB channel, for pixels in [0, 1]. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * What both backbones expect: RGB in NHWC, scaled to [0, 1], minus the ImageNet mean, over its std —
 * torchvision's `ToTensor()` + `Normalize(mean, std)`, channels last.
 * @param images [batch, h, w, 3] or [h, w, 3]; pixels in [0, 255] (e.g. `tf.browser.fromPixels`) unless
 *   `maxValue` says otherwise.
 * @example const input = normalizeImageNet(tf.browser.fromPixels(img).expandDims(0));
 */
export function normalizeImageNet<T extends tf.Tensor3D | tf.Tensor4D>(images: T, maxValue = 255): T {
  const channels = images.shape[images.rank - 1];
  if (channels !== 3) throw new RangeError(`images must have 3 channels (RGB, channels last), got shape [${images.shape.join(', ')}]`);
  return tf.tidy(() => {
    const scaled = tf.div(tf.cast(images, 'float32'), maxValue);
    return tf.div(tf.sub(scaled, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])) as T;
  });
}
