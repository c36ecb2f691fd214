/**
 * What can be told about an image from its bytes without decoding pixels: its format (by the leading
 * bytes) and whether its container is whole. A PNG, JPEG, GIF or WebP cut short — the first half of a
 * file, an upload that stopped — still starts with the right magic bytes; walking its chunks, segments
 * or blocks to the end marker finds the cut in microseconds, before a model is asked to decode it.
 */

export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

/** The formats, by their leading bytes (WebP: `RIFF` ···· `WEBP`). */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const at = (offset: number, ...values: number[]) => values.every((v, i) => bytes[offset + i] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

const NAMES: Record<ImageType, string> = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP', 'image/gif': 'GIF' };

/**
 * Why the container of an image of `type` is not whole, or `undefined` when it is: every chunk (PNG,
 * WebP), segment (JPEG) or block (GIF) lies within the bytes, the image data is there, and the file
 * reaches its end marker (PNG `IEND`, JPEG EOI, GIF after its last image). Bytes after the end are
 * allowed, as decoders ignore them. Pixels are not decoded: damaged compressed data is the decoder's to find.
 * @example imageStructureProblem(firstHalfOfPng, 'image/png') // "is truncated: its IDAT chunk at byte 33 needs …"
 */
export function imageStructureProblem(bytes: Uint8Array, type: ImageType): string | undefined {
  const problem = PARSERS[type](bytes);
  return problem && `is not a whole ${NAMES[type]} image: ${problem}`;
}

const PARSERS: Record<ImageType, (bytes: Uint8Array) => string | undefined> = {
  'image/png': pngProblem,
  'image/jpeg': jpegProblem,
  'image/gif': gifProblem,
  'image/webp': webpProblem,
};

const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const u32le = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));
const cut = (where: string, length: number) => `it is truncated: ${where}, but the file ends at byte ${length}`;

function pngProblem(b: Uint8Array): string | undefined {
  let offset = 8;
  let data = false;
  for (let index = 0; ; index++) {
    if (offset + 8 > b.length) return cut(`a chunk header should follow at byte ${offset}`, b.length);
    const length = u32be(b, offset);
    const type = ascii(b, offset + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type)) return `the chunk at byte ${offset} has no valid type`;
    if (index === 0 && type !== 'IHDR') return `its first chunk is ${type}, not IHDR`;
    const end = offset + 12 + length;
    if (end > b.length) return cut(`its ${type} chunk at byte ${offset} runs to byte ${end}`, b.length);
    if (type === 'IDAT') data = true;
    if (type === 'IEND') return data ? undefined : 'it has no image data (IDAT chunk)';
    offset = end;
  }
}

/** Markers without a length: TEM and the restart markers RST0–7. */
const standalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
/** Start-of-frame markers (SOF0–15 but DHT, JPG and DAC). */
const frame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegProblem(b: Uint8Array): string | undefined {
  let offset = 2;
  let frames = 0;
  let scans = 0;
  for (;;) {
    if (offset >= b.length) return cut(`a marker should follow at byte ${offset} (no end-of-image marker)`, b.length);
    if (b[offset] !== 0xff) return `byte ${offset} should start a marker`;
    while (b[offset] === 0xff) offset++; // fill bytes
    if (offset >= b.length) return cut(`a marker should follow at byte ${offset} (no end-of-image marker)`, b.length);
    const marker = b[offset]!;
    offset++;
    if (marker === 0xd9) return frames && scans ? undefined : 'it ends before any image data';
    if (standalone(marker)) continue;
    if (offset + 2 > b.length) return cut(`the segment at byte ${offset - 2} should say its length`, b.length);
    const length = (b[offset]! << 8) | b[offset + 1]!;
    if (length < 2) return `the segment at byte ${offset - 2} has an impossible length (${length})`;
    if (offset + length > b.length) return cut(`the segment at byte ${offset - 2} runs to byte ${offset + length}`, b.length);
    if (frame(marker)) frames++;
    offset += length;
    if (marker !== 0xda) continue;
    // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
    scans++;
    while (offset + 1 < b.length && !(b[offset] === 0xff && b[offset + 1] !== 0x00 && b[offset + 1] !== 0xff && !standalone(b[offset + 1]!))) offset++;
    if (offset + 1 >= b.length) return cut('its image data has no end-of-image marker', b.length);
  }
}

function gifProblem(b: Uint8Array): string | undefined {
  if (b.length < 13) return cut('the screen descriptor runs to byte 13', b.length);
  let offset = 13 + (b[10]! & 0x80 ? 3 << ((b[10]! & 7) + 1) : 0);
  let images = 0;
  /** Skips data sub-blocks up to their 0 terminator; false when the file ends first. */
  const subBlocks = (): boolean => {
    for (;;) {
      if (offset >= b.length) return false;
      const size = b[offset++]!;
      if (size === 0) return true;
      offset += size;
    }
  };
  for (;;) {
    // Some encoders leave out the trailer; a file that ends after a whole image is whole enough to show.
    if (offset >= b.length) return images ? undefined : cut(`a block should follow at byte ${offset}`, b.length);
    const block = b[offset]!;
    if (block === 0x3b) return images ? undefined : 'it has no image';
    if (block === 0x21) {
      offset += 2;
      if (!subBlocks()) return cut('an extension block is not finished', b.length);
    } else if (block === 0x2c) {
      if (offset + 10 > b.length) return cut(`the image descriptor at byte ${offset} runs to byte ${offset + 10}`, b.length);
      const flags = b[offset + 9]!;
      offset += 10 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0) + 1; // descriptor, local colour table, LZW code size
      if (!subBlocks()) return cut(`image ${images + 1}'s data is not finished`, b.length);
      images++;
    } else return `byte ${offset} (0x${block.toString(16)}) starts no GIF block`;
  }
}

function webpProblem(b: Uint8Array): string | undefined {
  const end = 8 + u32le(b, 4);
  if (end > b.length) return cut(`its RIFF header says it runs to byte ${end}`, b.length);
  let offset = 12;
  let image = false;
  while (offset + 8 <= end) {
    const fourcc = ascii(b, offset, 4);
    const size = u32le(b, offset + 4);
    if (offset + 8 + size > end) return cut(`its ${fourcc.trim()} chunk at byte ${offset} runs to byte ${offset + 8 + size}`, Math.min(end, b.length));
    if (fourcc === 'VP8 ' || fourcc === 'VP8L' || fourcc === 'ANMF') image = true;
    offset += 8 + size + (size & 1);
  }
  return image ? undefined : 'it has no image data (VP8, VP8L or ANMF chunk)';
}
