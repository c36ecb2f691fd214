import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DatasetValidationError } from '../../../src/lib/datasets/errors';
import { idxImagePng, parseIdx, parseIdxUpload, readIdxPair } from '../../../src/lib/datasets/idx';
import { structuralProcessor } from '../../../src/lib/datasets/image-processor';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { parseUpload } from '../../../src/lib/datasets/parsers';
import { decodePng } from '../../../src/lib/datasets/png';
import { makeDb } from '../factories';
import { entry, idxFile } from './factories';

/** `count` 4×3 grey images whose pixels encode (image, position), and labels cycling over `classes`. */
function imageSet(count: number, classes: number) {
  const pixels = Array.from({ length: count * 12 }, (_, i) => (i * 7 + Math.floor(i / 12) * 31) % 256);
  return {
    images: idxFile([count, 4, 3], pixels),
    labels: idxFile([count], Array.from({ length: count }, (_, i) => i % classes)),
    pixels,
  };
}

describe('IDX importer', () => {
  it('parses plain and gzipped IDX files to the same shape and values', () => {
    const { images, pixels } = imageSet(5, 3);
    const plain = parseIdx(images, 'x-images-idx3-ubyte');
    const gz = parseIdx(gzipSync(images), 'x-images-idx3-ubyte.gz');
    expect(plain.shape).toEqual([5, 4, 3]);
    expect(gz.shape).toEqual([5, 4, 3]);
    expect(Array.from(gz.data)).toEqual(pixels);
  });

  it('names the file and the problem for bad input', () => {
    const { images, labels } = imageSet(5, 3);
    expect(() => parseIdx(Uint8Array.of(1, 2, 3, 4, 5), 'a.idx')).toThrow(/a\.idx: not an IDX file/);
    expect(() => parseIdx(idxFile([2], [1, 2]).map((b, i) => (i === 2 ? 0x0d : b)), 'f.idx')).toThrow(/type 0xd; only unsigned bytes/);
    expect(() => parseIdx(images.slice(0, -1), 'short.idx')).toThrow(/short\.idx: header promises 5 × 4 × 3 = 60 values but the file holds 59/);
    expect(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 1, 2, 3), 'broken.gz')).toThrow(DatasetValidationError);
    expect(() => readIdxPair(images, idxFile([4], [0, 1, 2, 0]), 'i', 'l')).toThrow(/i holds 5 images but l holds 4 labels/);
    expect(() => readIdxPair(labels, labels, 'l1', 'l2')).toThrow(/l1: expected 3 dimensions/);
  });

  it('stores each image as a grey PNG with exactly its pixels', () => {
    const { images, labels, pixels } = imageSet(3, 2);
    const set = readIdxPair(images, labels, 'i', 'l');
    const png = decodePng(idxImagePng(set, 2));
    expect(png).toMatchObject({ width: 3, height: 4, channels: 1 });
    expect(Array.from(png.data)).toEqual(pixels.slice(24, 36));
  });

  it('reads every record of an upload, with class names from classes.txt and splits from the file names', async () => {
    const train = imageSet(12, 3);
    const test = imageSet(6, 3);
    const result = await parseIdxUpload([
      entry('fm/train-images-idx3-ubyte.gz', gzipSync(train.images)),
      entry('fm/train-labels-idx1-ubyte.gz', gzipSync(train.labels)),
      entry('fm/t10k-images-idx3-ubyte.gz', gzipSync(test.images)),
      entry('fm/t10k-labels-idx1-ubyte.gz', gzipSync(test.labels)),
      entry('fm/classes.txt', 'T-shirt/top\nTrouser\nPullover\n'),
      entry('fm/notes.md', 'hello'),
      entry('fm/extra-images-idx3-ubyte', train.images),
    ]);
    expect(result.labels).toEqual(['T-shirt/top', 'Trouser', 'Pullover']);
    expect(result.candidates).toHaveLength(18);
    expect(result.candidates.filter((c) => c.split === 'train')).toHaveLength(12);
    expect(result.candidates.filter((c) => c.split === 'test')).toHaveLength(6);
    expect(result.candidates[4]).toMatchObject({ label: 'Trouser', item: 'fm/train-images-idx3-ubyte.gz#5', source: 'fm/train-images-idx3-ubyte.gz' });
    expect(result.skipped).toEqual([
      { item: 'fm/extra-images-idx3-ubyte', reason: expect.stringMatching(/no labels file: expected extra-labels-idx1-ubyte beside it/) },
      { item: 'fm/notes.md', reason: expect.stringMatching(/not used: expected IDX pairs/) },
    ]);
  });

  it('names classes by their index without classes.txt, and rejects a class list that is too short', async () => {
    const set = imageSet(4, 4);
    const files = [entry('train-images-idx3-ubyte', set.images), entry('train-labels-idx1-ubyte', set.labels)];
    expect((await parseIdxUpload(files)).labels).toEqual(['0', '1', '2', '3']);
    await expect(parseIdxUpload([...files, entry('classes.txt', 'a\nb\n')])).rejects.toThrow(/classes\.txt names 2 classes but the labels go up to 3/);
    await expect(parseIdxUpload([entry('train-labels-idx1-ubyte', set.labels)])).rejects.toThrow(/No IDX image\/label pair found/);
  });

  it('imports as an image-classification dataset whose classes are the upload\'s', async () => {
    const db = makeDb();
    const set = imageSet(30, 3);
    const upload = [entry('train-images-idx3-ubyte.gz', gzipSync(set.images)), entry('train-labels-idx1-ubyte.gz', gzipSync(set.labels)), entry('classes.txt', 'coat\nbag\nsandal')];
    expect((await parseUpload('image-classification', upload)).labels).toEqual(['coat', 'bag', 'sandal']);
    const { dataset } = await importUpload(db, upload, { task: 'image-classification', name: 'idx', seed: 1 }, { processor: structuralProcessor });
    expect(dataset.labels).toEqual(['coat', 'bag', 'sandal']);
    expect(dataset.sampleCount).toBe(30);
    const samples = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(new Set(samples.map((s) => s.label))).toEqual(new Set(['coat', 'bag', 'sandal']));
    expect(samples.every((s) => s.width === 3 && s.height === 4)).toBe(true);
    // The files name only a train split: a ninth of it, one per class here, becomes the val split.
    expect(dataset.splits).toEqual({ train: 27, val: 3 });
  });
});
