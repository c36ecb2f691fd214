import sharp from 'sharp';
import { bytesToBlob, ImageDecodeError, type ImageProcessor } from '$lib/datasets/image-processor';

/**
 * The studio's import, with sharp as the decoder: the Node counterpart of `canvasProcessor`. It applies
 * the same rule — images that already fit `maxSide` (PNG or JPEG in the asked format) are stored byte for
 * byte, larger ones are resized (longest side to `maxSide`) and re-encoded — so a CLI import stores what
 * the studio would, and images sharp cannot decode are skipped with the reason.
 */
export const sharpProcessor: ImageProcessor = {
  async process(bytes, info, options) {
    let width: number;
    let height: number;
    try {
      // stats() decodes every pixel, so a file with a valid header but broken data fails here.
      const image = sharp(bytes, { failOn: 'error' });
      const meta = await image.metadata();
      await image.stats();
      // Browsers apply EXIF orientation when decoding (createImageBitmap's default): so does the size here.
      ({ width, height } = meta.autoOrient);
    } catch (error) {
      throw new ImageDecodeError(`could not decode this ${info.format.toUpperCase()} (${error instanceof Error ? error.message : String(error)})`);
    }
    const fits = Math.max(width, height) <= options.maxSide && (info.format === 'png' || info.format === 'jpeg') && (!options.format || options.format === info.format);
    if (fits) return { blob: bytesToBlob(bytes, info.mime), width, height, original: info, resized: false };
    const scale = Math.min(1, options.maxSide / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const format = options.format ?? (info.format === 'jpeg' ? 'jpeg' : 'png');
    const resized = sharp(bytes).autoOrient().resize(w, h, { fit: 'fill' });
    const out = await (format === 'jpeg' ? resized.jpeg({ quality: Math.round((options.quality ?? 0.9) * 100) }) : resized.png()).toBuffer();
    return { blob: bytesToBlob(new Uint8Array(out), `image/${format}`), width: w, height: h, original: info, resized: true };
  },
};
