import { gunzipSync } from 'fflate';
import { DatasetValidationError } from './errors';
import { bytesToBlob } from './image-processor';
import { basename, splitFromWord } from './paths';
import { encodePng } from './png';
import { readText } from './tables';
import type { Candidate, ImageCandidate, InputEntry, SkippedItem } from './types';
import type { Split } from '$lib/db/types';

/**
 * The IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a big-endian header — two zero
 * bytes, a type code, the number of dimensions — then one uint32 size per dimension, then the values
 * row-major. Files usually come gzipped (`train-images-idx3-ubyte.gz`).
 */
export interface IdxArray {
  /** Sizes, outermost first: [count] for labels, [count, rows, cols] for images. */
  shape: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/**
 * Parses an IDX file of unsigned bytes (gzipped or not). Throws `DatasetValidationError` naming the file
 * and what is wrong (not IDX, another value type, truncated).
 * @example const { shape, data } = parseIdx(bytes, 'train-labels-idx1-ubyte.gz'); // shape [60000]
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  let raw = bytes;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (error) {
      throw new DatasetValidationError(`${file}: not a readable gzip file (${(error as Error).message})`, file);
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) {
    throw new DatasetValidationError(`${file}: not an IDX file (expected two zero bytes, a type code and a dimension count)`, file);
  }
  if (raw[2] !== UBYTE) {
    throw new DatasetValidationError(`${file}: IDX values of type 0x${raw[2]!.toString(16)}; only unsigned bytes (0x08) are supported`, file);
  }
  const dims = raw[3]!;
  const header = 4 + 4 * dims;
  if (dims === 0 || raw.length < header) throw new DatasetValidationError(`${file}: IDX header is truncated (${dims} dimensions)`, file);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((n, d) => n * d, 1);
  if (raw.length - header !== size) {
    throw new DatasetValidationError(`${file}: header promises ${shape.join(' × ')} = ${size} values but the file holds ${raw.length - header}`, file);
  }
  return { shape, data: raw.subarray(header) };
}

/** Grey images and their class indices, read from an IDX images file and its labels file. */
export interface IdxImageSet {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols grey bytes (0 = black). */
  pixels: Uint8Array;
  /** One class index per image. */
  labels: Uint8Array;
}

/**
 * Pairs an images file (3 dimensions) with its labels file (1 dimension) and checks they agree.
 * @example const set = readIdxPair(imagesBytes, labelsBytes, 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz');
 */
export function readIdxPair(images: Uint8Array, labels: Uint8Array, imagesFile: string, labelsFile: string): IdxImageSet {
  const x = parseIdx(images, imagesFile);
  const y = parseIdx(labels, labelsFile);
  if (x.shape.length !== 3) throw new DatasetValidationError(`${imagesFile}: expected 3 dimensions (count, rows, columns), found ${x.shape.length}`, imagesFile);
  if (y.shape.length !== 1) throw new DatasetValidationError(`${labelsFile}: expected 1 dimension (count), found ${y.shape.length}`, labelsFile);
  if (x.shape[0] !== y.shape[0]) {
    throw new DatasetValidationError(`${imagesFile} holds ${x.shape[0]} images but ${labelsFile} holds ${y.shape[0]} labels`, labelsFile);
  }
  return { count: x.shape[0]!, rows: x.shape[1]!, cols: x.shape[2]!, pixels: x.data, labels: y.data };
}

/** Image `index` of a set as a grey PNG (how samples are stored; decoders replicate grey into RGB). */
export function idxImagePng(set: IdxImageSet, index: number): Uint8Array {
  const size = set.rows * set.cols;
  return encodePng({ width: set.cols, height: set.rows, channels: 1, data: set.pixels.subarray(index * size, (index + 1) * size) }, 1);
}

/** Class names for the indices of a set: `names` when given (one per index), else the digits themselves. */
export function idxClassNames(set: IdxImageSet, names?: readonly string[]): string[] {
  let max = 0;
  for (const label of set.labels) max = Math.max(max, label);
  if (names) {
    if (names.length <= max) throw new DatasetValidationError(`the class list names ${names.length} classes but the labels go up to ${max}`);
    return [...names];
  }
  return Array.from({ length: max + 1 }, (_, i) => String(i));
}

const IMAGES = /^(.*?)[-_.]?images[-_.]idx3[-_.]ubyte(\.gz)?$/i;
const LABELS = /^(.*?)[-_.]?labels[-_.]idx1[-_.]ubyte(\.gz)?$/i;
/** Optional class list beside the IDX files: one class name per line, in index order. */
export const IDX_CLASS_FILES = ['classes.txt', 'labels.txt'];

/** Whether an upload holds IDX files (so the image-classification parser reads it as IDX). */
export function hasIdxFiles(entries: InputEntry[]): boolean {
  return entries.some((e) => IMAGES.test(basename(e.path)) || LABELS.test(basename(e.path)));
}

/** `t10k` is MNIST's name for the test set. */
function idxSplit(prefix: string): Split | undefined {
  return /t10k/i.test(prefix) ? 'test' : splitFromWord(prefix.split(/[-_.]/).at(-1) ?? '');
}

/**
 * An upload of IDX pairs (`train-images-idx3-ubyte.gz` + `train-labels-idx1-ubyte.gz`, `t10k-…`) as image
 * candidates: each image a grey PNG, labelled by its class name (from `classes.txt` when present), the
 * split from the file prefix (`train`, `t10k` = test). Unpaired files are reported, never guessed.
 */
export async function parseIdxUpload(entries: InputEntry[]): Promise<{ candidates: Candidate[]; skipped: SkippedItem[]; labels: string[] }> {
  const skipped: SkippedItem[] = [];
  const classFile = entries.find((e) => IDX_CLASS_FILES.includes(basename(e.path).toLowerCase()));
  const names = classFile
    ? (await readText(classFile.file)).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '')
    : undefined;
  const labelFiles = new Map<string, InputEntry>();
  for (const e of entries) {
    const m = LABELS.exec(basename(e.path));
    if (m) labelFiles.set(`${e.path.slice(0, e.path.length - basename(e.path).length)}${m[1]!.toLowerCase()}`, e);
  }
  const sets: { prefix: string; set: IdxImageSet; file: string }[] = [];
  const used = new Set<InputEntry>(classFile ? [classFile] : []);
  for (const e of entries) {
    const m = IMAGES.exec(basename(e.path));
    if (!m) continue;
    const key = `${e.path.slice(0, e.path.length - basename(e.path).length)}${m[1]!.toLowerCase()}`;
    const labelFile = labelFiles.get(key);
    if (!labelFile) {
      used.add(e);
      skipped.push({ item: e.path, reason: `no labels file: expected ${m[1]}${m[1] ? '-' : ''}labels-idx1-ubyte${m[2] ?? ''} beside it` });
      continue;
    }
    used.add(e).add(labelFile);
    const set = readIdxPair(new Uint8Array(await e.file.arrayBuffer()), new Uint8Array(await labelFile.file.arrayBuffer()), e.path, labelFile.path);
    sets.push({ prefix: m[1]!, set, file: e.path });
  }
  for (const e of entries) if (!used.has(e)) skipped.push({ item: e.path, reason: 'not used: expected IDX pairs (*-images-idx3-ubyte[.gz] + *-labels-idx1-ubyte[.gz]) and an optional classes.txt' });
  if (sets.length === 0) throw new DatasetValidationError('No IDX image/label pair found: expected files like train-images-idx3-ubyte.gz with train-labels-idx1-ubyte.gz.');
  const max = Math.max(...sets.map(({ set }) => idxClassNames(set).length));
  const labels = names ?? Array.from({ length: max }, (_, i) => String(i));
  if (labels.length < max) throw new DatasetValidationError(`${classFile!.path} names ${labels.length} classes but the labels go up to ${max - 1}`, classFile!.path);
  const candidates: ImageCandidate[] = [];
  for (const { prefix, set, file } of sets) {
    const split = idxSplit(prefix);
    for (let i = 0; i < set.count; i++) {
      const path = `${file}#${i + 1}`;
      const png = bytesToBlob(idxImagePng(set, i), 'image/png');
      candidates.push({ kind: 'image', item: path, files: [{ path, file: png }], label: labels[set.labels[i]!]!, split, source: file });
    }
  }
  return { candidates, skipped, labels };
}

/** Fashion-MNIST's class names in index order (github.com/zalandoresearch/fashion-mnist#labels). */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
