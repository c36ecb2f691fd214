/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {…}}`, then the raw little-endian
 * tensor bytes, offsets relative to the end of the header.
 */

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Bytes per element of every dtype we decode. */
const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
export const SAFETENSORS_DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];

export interface SafetensorsTensor {
  /** The dtype in the file; floats decode to Float32Array, integers and bools to Int32Array (tfjs's dtypes). */
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  /** Free-form string metadata (`__metadata__`), e.g. `{format: 'pt'}`. */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: Map<string, SafetensorsTensor>;
}

interface HeaderEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a whole safetensors file. Every tensor is checked against the header (known dtype, shape and
 * byte range that fit the data) before any is decoded, and errors name the tensor.
 * @example const { tensors } = parseSafetensors(await file.arrayBuffer()); tensors.get('conv1.weight')?.shape
 */
export function parseSafetensors(source: ArrayBuffer | Uint8Array): SafetensorsFile {
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(`not a safetensors file: ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    throw new SafetensorsError(`header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after the length field (file truncated or not safetensors)`);
  }
  const dataStart = 8 + Number(headerLength);
  const header = parseHeader(bytes.subarray(8, dataStart));
  const data = bytes.subarray(dataStart);

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const entries: [string, { dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }][] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      Object.assign(metadata, value);
      continue;
    }
    entries.push([name, checkEntry(name, value as HeaderEntry, data.byteLength)]);
  }
  for (const [name, { dtype, shape, begin, end }] of entries) {
    tensors.set(name, { dtype, shape, data: decode(dtype, data.subarray(begin, end)) });
  }
  return { metadata, tensors };
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${(error as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('header must be a JSON object of tensor entries');
  }
  return header as Record<string, unknown>;
}

function checkEntry(name: string, entry: HeaderEntry, dataBytes: number) {
  if (entry === null || typeof entry !== 'object') throw new SafetensorsError(`tensor '${name}': header entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw new SafetensorsError(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)}; supported: ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor '${name}': shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(`tensor '${name}': data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const known = dtype as SafetensorsDtype;
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[known];
  if (end - begin !== expected) {
    throw new SafetensorsError(`tensor '${name}': ${dtype} [${shape.join(', ')}] needs ${expected} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > dataBytes) {
    throw new SafetensorsError(`tensor '${name}': data_offsets end at byte ${end} but the file has only ${dataBytes} data bytes (truncated)`);
  }
  return { dtype: known, shape: shape as number[], begin, end };
}

function decode(dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) {
        // Fast path: one byte copy into a fresh, aligned buffer (a view would need 4-byte alignment).
        const out = new Float32Array(n);
        new Uint8Array(out.buffer).set(bytes);
        return out;
      }
      return fill(new Float32Array(n), (i) => view.getFloat32(i * 4, true));
    case 'F64':
      return fill(new Float32Array(n), (i) => view.getFloat64(i * 8, true));
    case 'F16':
      return fill(new Float32Array(n), (i) => halfToFloat(view.getUint16(i * 2, true)));
    case 'BF16':
      return bfloat16ToFloat32(bytes, n);
    case 'I64':
      return fill(new Int32Array(n), (i) => {
        const value = view.getBigInt64(i * 8, true);
        if (value > 2147483647n || value < -2147483648n) throw new SafetensorsError(`I64 value ${value} does not fit in int32 (tfjs has no int64)`);
        return Number(value);
      });
    case 'I32':
      return fill(new Int32Array(n), (i) => view.getInt32(i * 4, true));
    case 'I16':
      return fill(new Int32Array(n), (i) => view.getInt16(i * 2, true));
    case 'I8':
      return fill(new Int32Array(n), (i) => view.getInt8(i));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(bytes);
  }
}

function fill<T extends Float32Array | Int32Array>(out: T, value: (i: number) => number): T {
  for (let i = 0; i < out.length; i++) out[i] = value(i);
  return out;
}

/** bfloat16 is the top half of a float32: shift its bits up by 16. */
function bfloat16ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16;
  return new Float32Array(bits.buffer);
}

/** IEEE 754 half → float, including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Writes float32 tensors as a safetensors file (the inverse of `parseSafetensors` for F32): what a task
 * model's first weights travel to a PyTorch job as.
 * @example serializeSafetensors({ metadata: { format: 'pt' }, tensors }) // Uint8Array
 */
export function serializeSafetensors(file: SafetensorsFile): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, tensor] of file.tensors) {
    if (!(tensor.data instanceof Float32Array)) throw new SafetensorsError(`tensor '${name}': only F32 tensors are written, got ${tensor.dtype}`);
    const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  if (Object.keys(file.metadata).length > 0) header.__metadata__ = file.metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((new TextEncoder().encode(json).byteLength) % 8)) % 8); // data 8-byte aligned, as the Python writer does
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
