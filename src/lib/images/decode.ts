/** RGB pixels of an image, row-major, 3 bytes per pixel, resized to a square `size`. */
export interface RgbImage {
  data: Uint8Array;
  size: number;
}

/** Where a decoded image sits in a batch: its row and which of the row's images (0: the first, e.g. a coin's front). */
export interface ImagePosition {
  sample: number;
  image: number;
}

/**
 * An image that could not be decoded although it was handed over as one (the decoder's reason is in the
 * message and in `reason`). Decoding a batch also says where the image sits (`sample`, `image`): they
 * are plain fields, so they survive the trip from a worker (see `keepErrorDetails`), and serving names
 * the request field from them (`inputs[0].back_image_base64`).
 */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  /** The decoder's own words, without the image's name. */
  readonly reason: string;
  readonly sample?: number;
  readonly image?: number;
  constructor(message: string, reason = message, position?: ImagePosition) {
    super(message);
    this.reason = reason;
    if (position) {
      this.sample = position.sample;
      this.image = position.image;
    }
  }
}

/**
 * Decodes and resizes an image blob. Browsers (pages and workers) use `createImageBitmap`, which decodes
 * off the main thread; Node (tests, the CLI) uses sharp, loaded only there.
 * @example const { data } = await decodeRgb(blob, 128); // 128 × 128 × 3 bytes
 */
export async function decodeRgb(blob: Blob, size: number, name = 'image', position?: ImagePosition): Promise<RgbImage> {
  try {
    return typeof createImageBitmap === 'function' ? await decodeInBrowser(blob, size) : await decodeInNode(blob, size);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ImageDecodeError(`${name} could not be decoded as an image: ${reason}`, reason, position);
  }
}

async function decodeInBrowser(blob: Blob, size: number): Promise<RgbImage> {
  const bitmap = await createImageBitmap(blob, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
  try {
    const canvas = new OffscreenCanvas(size, size);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('no 2D canvas context');
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, size, size).data;
    const data = new Uint8Array(size * size * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      data[j] = rgba[i]!;
      data[j + 1] = rgba[i + 1]!;
      data[j + 2] = rgba[i + 2]!;
    }
    return { data, size };
  } finally {
    bitmap.close();
  }
}

async function decodeInNode(blob: Blob, size: number): Promise<RgbImage> {
  // A variable specifier keeps bundlers from pulling sharp (a native Node module) into the web app.
  const specifier = 'sharp';
  const { default: sharp } = (await import(/* @vite-ignore */ specifier)) as { default: typeof import('sharp') };
  const { data } = await sharp(Buffer.from(await blob.arrayBuffer()))
    .removeAlpha()
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size };
}
