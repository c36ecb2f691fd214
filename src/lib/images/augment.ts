/** Image augmentation for training, applied to RGB bytes before they become tensors. */
export interface AugmentOptions {
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

/**
 * A randomly augmented copy of `pixels` (size × size × 3 bytes), as float32 in [0, 255]. Every draw
 * comes from `random`, so a seeded generator makes augmentation reproducible.
 */
export function augmentRgb(pixels: Uint8Array, size: number, random: () => number, options: AugmentOptions): Float32Array {
  const flip = options.flip && random() < 0.5;
  const angle = ((random() * 2 - 1) * options.rotateDegrees * Math.PI) / 180;
  const gain = 1 + (random() * 2 - 1) * options.brightness;
  const contrast = 1 + (random() * 2 - 1) * options.contrast;
  const out = new Float32Array(size * size * 3);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const center = (size - 1) / 2;
  let sum = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Inverse mapping: where in the source does this output pixel come from?
      const dx = (flip ? size - 1 - x : x) - center;
      const dy = y - center;
      const sx = Math.min(size - 1, Math.max(0, cos * dx + sin * dy + center));
      const sy = Math.min(size - 1, Math.max(0, -sin * dx + cos * dy + center));
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
