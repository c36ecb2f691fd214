import { crc32, PNG_SIGNATURE } from './png';

/**
 * What a file's bytes say it is, read in pure TS (Node, workers, pages): the format from its magic
 * bytes, and for PNG and JPEG a structural check deep enough to catch truncated or damaged files
 * before a decoder sees them. The browser's decoder still has the last word (see image-processor.ts).
 */

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

export interface ImageInfo {
  format: ImageFormat;
  mime: string;
  width: number;
  height: number;
}

/** A file that is not a usable image; the message says what is wrong with it. */
export class ImageFormatError extends Error {
  override name = 'ImageFormatError';
}

export const MIME: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
};

function startsWith(bytes: Uint8Array, prefix: ArrayLike<number>, at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/** The image format named by the first bytes, or undefined when they name none we read. */
export function sniffImage(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('BM')) && bytes.length >= 26) return 'bmp';
  return undefined;
}

function checkSize(width: number, height: number, what: string): void {
  if (!(width > 0 && height > 0)) throw new ImageFormatError(`${what} declares a size of ${width}×${height}; expected a positive width and height`);
}

/**
 * PNG: signature, IHDR first (13 bytes, positive size), every chunk inside the file with a matching
 * CRC, at least one IDAT, and IEND last.
 */
export function checkPng(bytes: Uint8Array): ImageInfo {
  if (!startsWith(bytes, PNG_SIGNATURE)) throw new ImageFormatError('not a PNG: the 8-byte signature is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let sawIdat = false;
  let index = 0;
  for (;;) {
    if (offset + 12 > bytes.length) throw new ImageFormatError(`corrupt PNG: truncated after ${offset} bytes (no IEND chunk)`);
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw new ImageFormatError(`corrupt PNG: chunk ${index} at byte ${offset} has an invalid type`);
    const end = offset + 8 + length;
    if (end + 4 > bytes.length) throw new ImageFormatError(`corrupt PNG: chunk ${type} runs past the end of the file (truncated)`);
    if (crc32(bytes, offset + 4, end) !== view.getUint32(end)) throw new ImageFormatError(`corrupt PNG: CRC mismatch in chunk ${type} at byte ${offset}`);
    if (index === 0) {
      if (type !== 'IHDR' || length !== 13) throw new ImageFormatError('corrupt PNG: the first chunk must be a 13-byte IHDR');
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      checkSize(width, height, 'PNG header');
    }
    if (type === 'IDAT') sawIdat = true;
    if (type === 'IEND') {
      if (!sawIdat) throw new ImageFormatError('corrupt PNG: no IDAT (image data) chunk');
      return { format: 'png', mime: MIME.png, width, height };
    }
    offset = end + 4;
    index++;
  }
}

/** Start-of-frame markers (baseline, progressive, lossless …) carry the size; C4, C8 and CC are not frames. */
const isSof = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * JPEG: SOI, well-formed marker segments, a start-of-frame (SOF) with a positive size before the first
 * scan, and an EOI after the entropy-coded data (trailing bytes after EOI are tolerated, as viewers do).
 */
export function checkJpeg(bytes: Uint8Array): ImageInfo {
  if (!startsWith(bytes, [0xff, 0xd8])) throw new ImageFormatError('not a JPEG: the SOI marker (FF D8) is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 2;
  let size: { width: number; height: number } | undefined;
  let scans = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) throw new ImageFormatError(`corrupt JPEG: expected a marker at byte ${offset}`);
    while (bytes[offset] === 0xff) offset++; // fill bytes
    if (offset >= bytes.length) break;
    const marker = bytes[offset++]!;
    if (marker === 0xd9) {
      if (!size) throw new ImageFormatError('corrupt JPEG: no SOF (frame header), so it has no size');
      if (scans === 0) throw new ImageFormatError('corrupt JPEG: no image data (SOS) before EOI');
      return { format: 'jpeg', mime: MIME.jpeg, ...size };
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // standalone markers
    if (offset + 2 > bytes.length) break;
    const length = view.getUint16(offset);
    if (length < 2 || offset + length > bytes.length) throw new ImageFormatError(`corrupt JPEG: segment FF${marker.toString(16).toUpperCase()} runs past the end of the file (truncated)`);
    if (isSof(marker)) {
      if (length < 8) throw new ImageFormatError('corrupt JPEG: frame header too short');
      size = { height: view.getUint16(offset + 3), width: view.getUint16(offset + 5) };
      checkSize(size.width, size.height, 'JPEG frame header');
    }
    offset += length;
    if (marker === 0xda) {
      if (!size) throw new ImageFormatError('corrupt JPEG: scan data before any SOF (frame header)');
      scans++;
      // Entropy-coded data: skip to the next marker that is neither a stuffed 00 nor a restart marker.
      while (offset < bytes.length) {
        if (bytes[offset] === 0xff && offset + 1 < bytes.length) {
          const next = bytes[offset + 1]!;
          if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) break;
        }
        offset++;
      }
    }
  }
  throw new ImageFormatError('corrupt JPEG: the file ends before the EOI marker (truncated)');
}

function readOtherHeader(format: 'gif' | 'webp' | 'bmp', bytes: Uint8Array): ImageInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  try {
    if (format === 'gif') {
      width = view.getUint16(6, true);
      height = view.getUint16(8, true);
    } else if (format === 'bmp') {
      width = view.getInt32(18, true);
      height = Math.abs(view.getInt32(22, true));
    } else {
      const kind = String.fromCharCode(...bytes.subarray(12, 16));
      if (kind === 'VP8 ') {
        width = view.getUint16(26, true) & 0x3fff;
        height = view.getUint16(28, true) & 0x3fff;
      } else if (kind === 'VP8L') {
        const bits = view.getUint32(21, true);
        width = (bits & 0x3fff) + 1;
        height = ((bits >>> 14) & 0x3fff) + 1;
      } else if (kind === 'VP8X') {
        width = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
        height = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
      } else throw new ImageFormatError(`corrupt WebP: unknown chunk "${kind}"`);
    }
  } catch (error) {
    if (error instanceof ImageFormatError) throw error;
    throw new ImageFormatError(`corrupt ${format.toUpperCase()}: the header is truncated`);
  }
  checkSize(width, height, `${format.toUpperCase()} header`);
  return { format, mime: MIME[format], width, height };
}

/**
 * Identifies and checks an image file: throws `ImageFormatError` saying why it is unusable (empty, not
 * an image, corrupt), else returns its format and size.
 * @example const { width, height } = inspectImage(new Uint8Array(await file.arrayBuffer()));
 */
export function inspectImage(bytes: Uint8Array): ImageInfo {
  if (bytes.length === 0) throw new ImageFormatError('empty file (0 bytes)');
  const format = sniffImage(bytes);
  switch (format) {
    case 'png':
      return checkPng(bytes);
    case 'jpeg':
      return checkJpeg(bytes);
    case 'gif':
    case 'webp':
    case 'bmp':
      return readOtherHeader(format, bytes);
    case undefined:
      throw new ImageFormatError('not an image: the first bytes match no PNG, JPEG, GIF, WebP or BMP signature');
  }
}
