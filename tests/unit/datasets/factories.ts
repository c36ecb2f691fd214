import { encodePng } from '../../../src/lib/datasets/png';
import { mulberry32 } from '../../../src/lib/random';
import type { InputEntry } from '../../../src/lib/datasets/types';

/** A small RGB PNG whose pixels depend on `seed` (different seeds ⇒ different content hashes). */
export function png(width = 8, height = 6, seed = 1): Uint8Array {
  const random = mulberry32(seed);
  return encodePng({ width, height, channels: 3, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)) });
}

/**
 * A structurally valid baseline JPEG (SOI, APP0, DQT, SOF0 with the size, DHT, SOS, entropy-coded bytes
 * with a stuffed FF00 and a restart marker, EOI). Not decodable pixels: the structural reader is what is tested.
 */
export function jpeg(width = 20, height = 10, seed = 1): Uint8Array {
  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const app0 = seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = seg(0xdb, [0, ...Array.from({ length: 64 }, (_, i) => 1 + (i % 7))]);
  const sof = seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  const dht = seg(0xc4, [0, 0, 1, ...Array.from({ length: 14 }, () => 0), 0]);
  const sos = seg(0xda, [1, 1, 0, 0, 63, 0]);
  const data = [0x12, seed & 0xff, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, (seed >> 8) & 0xff];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...dqt, ...sof, ...dht, ...sos, ...data, 0xff, 0xd9]);
}

export function entry(path: string, content: Uint8Array | string, type = ''): InputEntry {
  return { path, file: new Blob([typeof content === 'string' ? content : (content as BlobPart)], { type }) };
}

/** A copy of `bytes` with one byte flipped at `index` (negative counts from the end). */
export function corrupt(bytes: Uint8Array, index: number): Uint8Array {
  const out = bytes.slice();
  const i = index < 0 ? out.length + index : index;
  out[i] = out[i]! ^ 0xff;
  return out;
}

/** An IDX file of unsigned bytes (as Fashion-MNIST ships): magic 0 0 8 dims, big-endian sizes, values. */
export function idxFile(shape: number[], values: ArrayLike<number>): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, 8, shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Uint8Array.from(values), header.length);
  return out;
}
