import { ImageDecodeError } from '$lib/images/decode';
import { inspectImage, type ImageInfo } from './image-format';

/** How images are stored: the longest side is brought down to `maxSide`; smaller images are kept as they are. */
export interface ImageStoreOptions {
  /** Longest side of a stored image, in pixels (default 256). */
  maxSide: number;
  /** Format of re-encoded images: PNG keeps every pixel, JPEG is smaller (default: the source's format). */
  format?: 'png' | 'jpeg';
  /** JPEG quality 0…1 (default 0.9). */
  quality?: number;
}

export const DEFAULT_IMAGE_OPTIONS: ImageStoreOptions = { maxSide: 256 };

export interface ProcessedImage {
  /** What is stored: the original bytes when they already fit, else a re-encoded resized image. */
  blob: Blob;
  width: number;
  height: number;
  /** The source image's size. */
  original: ImageInfo;
  resized: boolean;
}

/**
 * Decodes and (when needed) resizes one image. Kept behind this interface so Node tests use the
 * pure-TS structural reader and the worker uses the browser's decoder; both throw with the reason an
 * image is unusable.
 */
export interface ImageProcessor {
  process(bytes: Uint8Array, info: ImageInfo, options: ImageStoreOptions): Promise<ProcessedImage>;
}

const keepsBytes = (info: ImageInfo, options: ImageStoreOptions) =>
  Math.max(info.width, info.height) <= options.maxSide && (info.format === 'png' || info.format === 'jpeg') && (!options.format || options.format === info.format);

/** A file's bytes as a Blob, without copying when the view covers its whole buffer. */
export function bytesToBlob(bytes: Uint8Array, type: string): Blob {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return new Blob([whole ? (bytes.buffer as ArrayBuffer) : bytes.slice()], { type });
}

/**
 * The structural reader: trusts `inspectImage` (signature, chunk CRCs, markers) and stores the original
 * bytes, never resizing. Used in Node tests and wherever no image decoder exists.
 */
export const structuralProcessor: ImageProcessor = {
  async process(bytes, info) {
    const checked = inspectImage(bytes);
    return { blob: bytesToBlob(bytes, checked.mime), width: checked.width, height: checked.height, original: info, resized: false };
  },
};

// The processors below throw the one ImageDecodeError (the training decoder's too) for an image whose
// structure looked right but that no decoder could read.
export { ImageDecodeError };

/**
 * The browser's decoder (in a worker or page): `createImageBitmap` decodes, an `OffscreenCanvas`
 * resizes with high-quality smoothing, `convertToBlob` re-encodes. Images that already fit are stored
 * byte for byte (so an exported dataset re-imports to the same content hashes). The bitmap is closed
 * on every path so a long import never accumulates decoded images.
 */
export const canvasProcessor: ImageProcessor = {
  async process(bytes, info, options) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(bytesToBlob(bytes, info.mime));
    } catch (error) {
      throw new ImageDecodeError(`the browser could not decode this ${info.format.toUpperCase()} (${error instanceof Error ? error.message : String(error)})`);
    }
    try {
      const { width, height } = bitmap;
      if (keepsBytes({ ...info, width, height }, options)) {
        return { blob: bytesToBlob(bytes, info.mime), width, height, original: info, resized: false };
      }
      const scale = Math.min(1, options.maxSide / Math.max(width, height));
      const w = Math.max(1, Math.round(width * scale));
      const h = Math.max(1, Math.round(height * scale));
      const canvas = new OffscreenCanvas(w, h);
      const context = canvas.getContext('2d');
      if (!context) throw new ImageDecodeError('no 2D canvas context is available to resize images');
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = 'high';
      context.drawImage(bitmap, 0, 0, w, h);
      const format = options.format ?? (info.format === 'jpeg' ? 'jpeg' : 'png');
      const blob = await canvas.convertToBlob({ type: `image/${format}`, quality: options.quality ?? 0.9 });
      return { blob, width: w, height: h, original: info, resized: true };
    } finally {
      bitmap.close();
    }
  },
};

/** The browser's processor where `createImageBitmap` and `OffscreenCanvas` exist, else the structural reader. */
export function defaultImageProcessor(): ImageProcessor {
  return typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function' ? canvasProcessor : structuralProcessor;
}
