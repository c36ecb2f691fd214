import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageStructureProblem, sniffImageType, type ImageType } from '../../../src/lib/images/structure';
import { imageFileProblem } from '../../../src/lib/images/verify';

/** A real photo-sized image (noise, so it does not compress to nothing) in each format, as sharp writes it. */
async function encoded(format: 'png' | 'jpeg' | 'gif' | 'webp', options: Record<string, unknown> = {}): Promise<Uint8Array<ArrayBuffer>> {
  const size = 48;
  const pixels = Buffer.alloc(size * size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  const image = sharp(pixels, { raw: { width: size, height: size, channels: 3 } });
  return new Uint8Array(await image[format](options).toBuffer());
}

const FORMATS: [string, () => Promise<Uint8Array>][] = [
  ['PNG', () => encoded('png')],
  ['JPEG (baseline)', () => encoded('jpeg')],
  ['JPEG (progressive)', () => encoded('jpeg', { progressive: true })],
  ['GIF', () => encoded('gif')],
  ['WebP (lossy)', () => encoded('webp')],
  ['WebP (lossless)', () => encoded('webp', { lossless: true })],
];

describe('imageStructureProblem', () => {
  it.each(FORMATS)('passes a whole %s, with or without bytes after its end', async (_, make) => {
    const bytes = await make();
    const type = sniffImageType(bytes)!;
    expect(imageStructureProblem(bytes, type)).toBeUndefined();
    expect(imageStructureProblem(new Uint8Array([...bytes, 0, 1, 2, 0xff]), type)).toBeUndefined();
  });

  it.each(FORMATS)('finds every cut of a %s, from its magic bytes to its last byte', async (format, make) => {
    const bytes = await make();
    const type = sniffImageType(bytes)!;
    const missed: number[] = [];
    // A GIF without its one-byte trailer still holds every image whole (browsers show it).
    const last = type === 'image/gif' ? bytes.length - 1 : bytes.length;
    for (let length = 12; length < last; length++) {
      const cut = bytes.subarray(0, length);
      if (sniffImageType(cut) !== type) continue;
      const problem = imageStructureProblem(cut, type);
      if (!problem) missed.push(length);
      else expect(problem).toMatch(/^is not a whole (PNG|JPEG|GIF|WebP) image: /);
    }
    expect({ format, missed }).toEqual({ format, missed: [] });
  });

  it('says where the file was cut', async () => {
    const png = await encoded('png');
    const half = png.subarray(0, Math.floor(png.length / 2));
    expect(imageStructureProblem(half, 'image/png')).toMatch(/^is not a whole PNG image: it is truncated: its IDAT chunk at byte \d+ runs to byte \d+, but the file ends at byte \d+$/);
    const jpeg = await encoded('jpeg');
    expect(imageStructureProblem(jpeg.subarray(0, jpeg.length - 2), 'image/jpeg')).toBe(
      `is not a whole JPEG image: it is truncated: its image data has no end-of-image marker, but the file ends at byte ${jpeg.length - 2}`,
    );
  });

  it('refuses containers that hold no image data', () => {
    const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    const chunk = (type: string, length = 0) => [0, 0, 0, length, ...[...type].map((c) => c.charCodeAt(0)), ...new Array<number>(length + 4).fill(0)];
    const check = (bytes: number[], type: ImageType) => imageStructureProblem(new Uint8Array(bytes), type);
    expect(check([...signature, ...chunk('IHDR', 13), ...chunk('IEND')], 'image/png')).toMatch(/no image data \(IDAT chunk\)/);
    expect(check([...signature, ...chunk('IDAT', 1), ...chunk('IEND')], 'image/png')).toMatch(/first chunk is IDAT, not IHDR/);
    expect(check([0xff, 0xd8, 0xff, 0xd9], 'image/jpeg')).toMatch(/ends before any image data/);
  });
});

describe('imageFileProblem (the Predict form\'s check of a picked photo)', () => {
  it('takes a whole photo, and refuses a truncated one, a non-image and bytes that only look like one', async () => {
    const png = await encoded('png');
    await expect(imageFileProblem(new Blob([png]))).resolves.toBeUndefined();
    await expect(imageFileProblem(new Blob([png.subarray(0, png.length >> 1)]))).resolves.toMatch(/^is not a whole PNG image: it is truncated/);
    await expect(imageFileProblem(new Blob(['%PDF-1.7']))).resolves.toBe('is not a PNG, JPEG, WebP or GIF image');
    // Whole chunks around damaged compressed data: only a decoder finds it.
    const damaged = new Uint8Array(png);
    const idat = Buffer.from(damaged).indexOf('IDAT');
    damaged.fill(0x55, idat + 4, idat + 40);
    await expect(imageFileProblem(new Blob([damaged]))).resolves.toMatch(/^could not be decoded as an image \(/);
  });
});
