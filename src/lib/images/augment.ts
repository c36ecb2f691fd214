import type { Augmentation, AugmentationSettings } from '$lib/db/specs';

/** Image augmentation for training, applied to RGB bytes before they become tensors. */
export interface AugmentOptions {
  /**
   * Random resized crop: a crop covering this fraction of the image's area ([min, max], drawn uniformly;
   * aspect ratio 3/4–4/3 as torchvision's `RandomResizedCrop`), resized back to the full size. [1, 1] or
   * absent: no crop.
   */
  cropScale?: readonly [number, number];
  /** Mirror left–right with probability ½ (off for coins: it would mirror the year's digits). */
  flip: boolean;
  /** Rotate by a uniform angle in ±`rotateDegrees`, edges clamped. */
  rotateDegrees: number;
  /** Multiply brightness by 1 ± this. */
  brightness: number;
  /** Scale contrast around the mean by 1 ± this. */
  contrast: number;
}

export const NO_AUGMENTATION: AugmentOptions = { flip: false, rotateDegrees: 0, brightness: 0, contrast: 0 };

/** Whether a policy changes any image (when it does not, training inputs are the same every epoch). */
export function augments(options: AugmentOptions | undefined): boolean {
  if (!options) return false;
  const [min = 1, max = 1] = options.cropScale ?? [];
  return options.flip || options.rotateDegrees > 0 || options.brightness > 0 || options.contrast > 0 || min < 1 || max < 1;
}

/**
 * The policy an image model's `augmentation` setting means: `none`, `flip` (mirroring only), `default`
 * (the task's policy), or explicit settings, each missing one off.
 * @example resolveAugmentation(undefined, COIN_AUGMENTATION) // the coin policy
 */
export function resolveAugmentation(setting: Augmentation | undefined, taskDefault: AugmentOptions): AugmentOptions {
  if (setting === undefined || setting === 'default') return taskDefault;
  if (setting === 'none') return NO_AUGMENTATION;
  if (setting === 'flip') return { ...NO_AUGMENTATION, flip: true };
  return {
    ...(setting.cropScale ? { cropScale: [setting.cropScale[0], setting.cropScale[1]] as const } : {}),
    flip: setting.flip ?? false,
    rotateDegrees: setting.rotateDegrees ?? 0,
    brightness: setting.brightness ?? 0,
    contrast: setting.contrast ?? 0,
  };
}

/** A policy as the explicit settings stored with a run (no crop left out). */
export function augmentationSettings(options: AugmentOptions): AugmentationSettings {
  const crop = options.cropScale && augments({ ...NO_AUGMENTATION, cropScale: options.cropScale }) ? { cropScale: [options.cropScale[0], options.cropScale[1]] as [number, number] } : {};
  return { ...crop, flip: options.flip, rotateDegrees: options.rotateDegrees, brightness: options.brightness, contrast: options.contrast };
}

/**
 * The crop window of a random resized crop, as torchvision draws it: up to ten tries of an area in
 * `scale` × the image and a log-uniform aspect ratio in [3/4, 4/3]; the whole image when none fits.
 */
export function cropWindow(size: number, scale: readonly [number, number], random: () => number): { x: number; y: number; w: number; h: number } {
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = size * size * (scale[0] + random() * (scale[1] - scale[0]));
    const ratio = Math.exp(Math.log(3 / 4) + random() * (Math.log(4 / 3) - Math.log(3 / 4)));
    const w = Math.sqrt(area * ratio);
    const h = Math.sqrt(area / ratio);
    if (w <= size && h <= size) return { x: random() * (size - w), y: random() * (size - h), w, h };
  }
  return { x: 0, y: 0, w: size, h: size };
}

/**
 * A randomly augmented copy of `pixels` (size × size × 3 bytes), as float32 in [0, 255]. Every draw
 * comes from `random`, so a seeded generator makes augmentation reproducible. The crop (when on) is
 * drawn after the other settings, so a policy without one draws what it always drew.
 */
export function augmentRgb(pixels: Uint8Array, size: number, random: () => number, options: AugmentOptions): Float32Array {
  const flip = options.flip && random() < 0.5;
  const angle = ((random() * 2 - 1) * options.rotateDegrees * Math.PI) / 180;
  const gain = 1 + (random() * 2 - 1) * options.brightness;
  const contrast = 1 + (random() * 2 - 1) * options.contrast;
  const scale = options.cropScale;
  const crop = scale && (scale[0] < 1 || scale[1] < 1) ? cropWindow(size, scale, random) : { x: 0, y: 0, w: size, h: size };
  const out = new Float32Array(size * size * 3);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const center = (size - 1) / 2;
  // Output pixel → crop pixel: the crop is resized to the full size (pixel centres aligned).
  const sx0 = crop.x + (crop.w / size - 1) / 2;
  const sy0 = crop.y + (crop.h / size - 1) / 2;
  const kx = crop.w / size;
  const ky = crop.h / size;
  let sum = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Inverse mapping: where in the source does this output pixel come from?
      const dx = (flip ? size - 1 - x : x) - center;
      const dy = y - center;
      const rx = cos * dx + sin * dy + center;
      const ry = -sin * dx + cos * dy + center;
      const sx = Math.min(size - 1, Math.max(0, sx0 + rx * kx));
      const sy = Math.min(size - 1, Math.max(0, sy0 + ry * ky));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(size - 1, x0 + 1);
      const y1 = Math.min(size - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = pixels[(y0 * size + x0) * 3 + c]! * (1 - fx) + pixels[(y0 * size + x1) * 3 + c]! * fx;
        const bottom = pixels[(y1 * size + x0) * 3 + c]! * (1 - fx) + pixels[(y1 * size + x1) * 3 + c]! * fx;
        const value = (top * (1 - fy) + bottom * fy) * gain;
        out[o + c] = value;
        sum += value;
      }
    }
  }
  const mean = sum / out.length;
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, (out[i]! - mean) * contrast + mean));
  return out;
}
