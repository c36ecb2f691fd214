import { describe, expect, it } from 'vitest';
import { DatasetValidationError, ImportCancelledError } from '../../../src/lib/datasets/errors';
import { bytesToBlob, ImageDecodeError, structuralProcessor, type ImageProcessor } from '../../../src/lib/datasets/image-processor';
import { ImageDecodeError as DecoderError } from '../../../src/lib/images/decode';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { encodePng } from '../../../src/lib/datasets/png';
import { sha256Hex } from '../../../src/lib/hash';
import type { ProgressEvent } from '../../../src/lib/progress';
import { makeDb } from '../factories';
import { corrupt, entry, jpeg, png } from './factories';

const context = { processor: structuralProcessor, now: () => 1_700_000_000_000 };

/** A car-damage folder with one bad file of every kind next to 9 good images. */
function damageFolder() {
  const good = Array.from({ length: 9 }, (_, i) => entry(`cars/${['minor', 'moderate', 'major'][i % 3]}/ok${i}.png`, png(6 + i, 4, i)));
  return [
    ...good,
    entry('cars/minor/good.jpg', jpeg(40, 30, 7)),
    entry('cars/minor/crc.png', corrupt(png(5, 5, 50), 45)),
    entry('cars/moderate/truncated.jpg', jpeg(40, 30, 8).slice(0, -2)),
    entry('cars/major/empty.png', new Uint8Array()),
    entry('cars/major/notes.png', 'these are not pixels'),
    entry('cars/moderate/copy.png', png(6, 4, 0)), // same bytes as ok0.png (kept: first by name)
  ];
}

describe('importing an upload', () => {
  it('stores every valid image with its silver-table fields and reports every invalid one', async () => {
    const db = makeDb();
    const events: ProgressEvent[] = [];
    const outcome = await importUpload(db, damageFolder(), { task: 'image-classification', name: 'cars', chunkSize: 4 }, { ...context, onProgress: (e) => void events.push(e) });
    const reasons = Object.fromEntries(outcome.report.map((s) => [s.item, s.reason]));
    expect(reasons).toEqual({
      'cars/minor/crc.png': expect.stringMatching(/corrupt PNG: CRC mismatch/),
      'cars/moderate/truncated.jpg': expect.stringMatching(/corrupt JPEG: .*truncated/),
      'cars/major/empty.png': 'empty file (0 bytes)',
      'cars/major/notes.png': expect.stringMatching(/not an image/),
      'cars/moderate/copy.png': expect.stringMatching(/duplicate content: same image\(s\) as cars\/minor\/ok0\.png; labels differ: "minor" there, "moderate" here/),
    });
    const { dataset } = outcome;
    expect(dataset).toMatchObject({ name: 'cars', task: 'image-classification', sampleCount: 10, labels: ['minor', 'moderate', 'major'], origin: 'import' });
    expect(dataset.id).toMatch(/^[0-9a-f]{64}$/);
    expect((await db.datasets.get(dataset.id))?.report).toEqual(outcome.report);
    const samples = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(samples).toHaveLength(10);
    const jpg = samples.find((s) => s.path === 'cars/minor/good.jpg')!;
    expect(jpg).toMatchObject({ label: 'minor', width: 40, height: 30, bytes: jpeg(40, 30, 7).length, hash: await sha256Hex(jpeg(40, 30, 7)), source: 'cars/minor' });
    expect(jpg.blobs![0]!.type).toBe('image/jpeg');
    expect(new Set(samples.map((s) => s.split))).toEqual(new Set(['train', 'val', 'test']));
    expect(events.filter((e) => e.kind === 'progress' && e.label === 'Checking and storing samples').map((e) => (e as { done: number }).done)).toEqual([4, 8, 12, 15]);
    expect(await db.samples.count()).toBe(10); // no staging rows left behind
  });

  it('carves a seeded, stratified validation split from train when the upload names only train and test, and says so', async () => {
    const classes = ['minor', 'moderate', 'major'];
    const upload = [
      ...Array.from({ length: 30 }, (_, i) => entry(`cars/train/${classes[i % 3]}/t${i}.png`, png(6, 4, i))),
      ...Array.from({ length: 6 }, (_, i) => entry(`cars/test/${classes[i % 3]}/x${i}.png`, png(7, 4, i))),
    ];
    const outcome = await importUpload(makeDb(), upload, { task: 'image-classification', name: 'cars' }, context);
    expect(outcome.dataset.splits).toEqual({ train: 27, val: 3, test: 6 });
    expect(outcome.notes).toEqual(['The upload has no validation split: 3 of its 30 training samples (11 %, stratified, seed 42) became the val split.']);
    const again = await importUpload(makeDb(), [...upload].reverse(), { task: 'image-classification', name: 'cars' }, context);
    expect(again.dataset.id).toBe(outcome.dataset.id);
    // An upload with its own val split keeps it and needs no note.
    const withVal = await importUpload(makeDb(), [...upload, entry('cars/val/minor/v.png', png(8, 4, 1))], { task: 'image-classification', name: 'cars' }, context);
    expect(withVal.dataset.splits).toEqual({ train: 30, val: 1, test: 6 });
    expect(withVal.notes).toEqual([]);
  });

  it('imports an evaluation set: held out whole without splits, else only what it names test or val (its other samples go to train)', async () => {
    const classes = ['minor', 'moderate', 'major'];
    const pool = Array.from({ length: 30 }, (_, i) => entry(`cars/${classes[i % 3]}/t${i}.png`, png(6, 4, i)));
    const test = Array.from({ length: 6 }, (_, i) => entry(`cars/test/${classes[i % 3]}/x${i}.png`, png(7, 4, i)));
    const whole = await importUpload(makeDb(), pool, { task: 'image-classification', name: 'cars', evaluationSet: true }, context);
    expect(whole.dataset.splits).toEqual({ test: 30 });
    expect(whole.notes).toEqual([]);
    const named = await importUpload(makeDb(), [...pool, ...test], { task: 'image-classification', name: 'cars', evaluationSet: true }, context);
    expect(named.dataset.splits).toEqual({ train: 30, test: 6 });
    expect(named.notes).toEqual(['30 of the 36 samples name no split while the others do: they are taken as training data (train) and not evaluated.']);
  });

  it('imports the same upload twice as one version (content-addressed), in any order', async () => {
    const db = makeDb();
    const first = await importUpload(db, damageFolder(), { task: 'image-classification', name: 'cars' }, context);
    const second = await importUpload(db, damageFolder().reverse(), { task: 'image-classification', name: 'again' }, context);
    expect(second.existed).toBe(true);
    expect(second.dataset.id).toBe(first.dataset.id);
    expect(await db.datasets.count()).toBe(1);
    expect(await db.samples.count()).toBe(10);
    const reseeded = await importUpload(db, damageFolder(), { task: 'image-classification', name: 'cars', seed: 7 }, context);
    expect(reseeded.dataset.id).not.toBe(first.dataset.id); // another split assignment is another version
  });

  it('records the label preset an image-classification import was made under, without changing its version id', async () => {
    const plain = await importUpload(makeDb(), damageFolder(), { task: 'image-classification', name: 'cars' }, context);
    expect(plain.dataset.preset).toBeUndefined();
    const db = makeDb();
    const preset = await importUpload(db, damageFolder(), { task: 'image-classification', preset: 'car-damage', name: 'cars' }, context);
    expect(preset.dataset).toMatchObject({ id: plain.dataset.id, task: 'image-classification', preset: 'car-damage', labels: ['minor', 'moderate', 'major'] });
    expect((await db.datasets.get(plain.dataset.id))?.preset).toBe('car-damage');
  });

  it('pairs coin images, naming the side that is broken and the row whose partner is missing', async () => {
    const db = makeDb();
    const files = [
      entry('coins.csv', 'front,back,year\na.png,b.png,1862\nc.png,d.png,1901\ne.png,f.png,1950\ng.png,missing.png,1990\n'),
      ...['a', 'b', 'c', 'e', 'f', 'g'].map((n, i) => entry(`${n}.png`, png(8, 8, i + 10))),
      entry('d.png', png(8, 8, 3).slice(0, 40)),
    ];
    const { dataset, report } = await importUpload(db, files, { task: 'coin-year', name: 'coins' }, context);
    expect(report).toEqual([
      { item: 'coins.csv row 5', reason: 'missing pair partner: back image "missing.png" is not in the upload' },
      { item: 'coins.csv row 3 (c.png + d.png)', reason: expect.stringMatching(/^back image d\.png: corrupt PNG/) },
    ]);
    const samples = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(samples.map((s) => [s.label, s.paths, s.blobs?.length]).sort()).toEqual([
      [1862, ['a.png', 'b.png'], 2],
      [1950, ['e.png', 'f.png'], 2],
    ]);
    const pair = samples.find((s) => s.label === 1862)!;
    expect(pair.hash).toBe(await sha256Hex(`${await sha256Hex(png(8, 8, 10))}+${await sha256Hex(png(8, 8, 11))}`));
    expect(pair.sizes).toEqual([{ width: 8, height: 8 }, { width: 8, height: 8 }]);
  });

  it('keeps the splits an upload names and reports duplicate texts with conflicting labels', async () => {
    const db = makeDb();
    const csv = 'text,label,split\nhello there,1,train\nHello there,1,train\nhello there,2,test\ngreat stuff,2,validation\nawful,0,\n';
    const { dataset, report } = await importUpload(db, [entry('t.csv', csv)], { task: 'text-classification', preset: 'sentiment', name: 'tweets' }, context);
    expect(report).toEqual([{ item: 't.csv row 4', reason: 'duplicate content: same text as t.csv row 2; labels differ: "neutral" there, "positive" here' }]);
    const samples = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(Object.fromEntries(samples.map((s) => [s.text, [s.label, s.split]]))).toEqual({
      'hello there': ['neutral', 'train'],
      'Hello there': ['neutral', 'train'],
      'great stuff': ['positive', 'val'],
      awful: ['negative', 'train'], // unassigned rows get a seeded split (one sample: train)
    });
  });

  it('stores nothing and says why when every item is invalid', async () => {
    const db = makeDb();
    const error = await importUpload(db, [entry('minor/a.png', 'nope'), entry('major/b.png', new Uint8Array())], { task: 'image-classification', name: 'x' }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetValidationError);
    expect((error as Error).message).toMatch(/Nothing to import: all 2 samples were skipped.*major\/b\.png: empty file.*minor\/a\.png: not an image/);
    expect(await db.samples.count()).toBe(0);
    expect(await db.datasets.count()).toBe(0);
  });

  it('writes chunk by chunk (a later chunk sees earlier ones stored) and cancels without leaving rows', async () => {
    const db = makeDb();
    const controller = new AbortController();
    const stagedSeen: number[] = [];
    let calls = 0;
    const processor: ImageProcessor = {
      async process(bytes, info, options) {
        stagedSeen.push(await db.samples.count());
        if (++calls === 7) controller.abort();
        return structuralProcessor.process(bytes, info, options);
      },
    };
    const files = Array.from({ length: 12 }, (_, i) => entry(`minor/${i}.png`, png(3, 3, i)));
    await expect(importUpload(db, files, { task: 'image-classification', name: 'x', chunkSize: 3 }, { processor, signal: controller.signal })).rejects.toBeInstanceOf(ImportCancelledError);
    expect(stagedSeen.slice(0, 3)).toEqual([0, 0, 0]);
    expect(stagedSeen.slice(3, 6)).toEqual([3, 3, 3]);
    expect(await db.samples.count()).toBe(0);
    expect(await db.datasets.count()).toBe(0);
  });

  it('adds data as a new version whose parent stays as it was', async () => {
    const db = makeDb();
    const base = await importUpload(db, [entry('t.csv', 'text,label\na,0\nb,1\nc,2\n')], { task: 'text-classification', name: 'v1' }, context);
    const added = await importUpload(db, [entry('more.csv', 'text,label\nd,2\na,0\n')], { task: 'text-classification', name: 'v2', parentId: base.dataset.id }, context);
    expect(added.dataset).toMatchObject({ parentId: base.dataset.id, sampleCount: 4, origin: 'addition' });
    expect(added.report).toEqual([{ item: 'more.csv row 3', reason: 'duplicate content: same text as t.csv row 2 (in v1)' }]);
    expect(await db.samples.where('datasetId').equals(base.dataset.id).count()).toBe(3);
    const parentSplits = Object.fromEntries((await db.samples.where('datasetId').equals(base.dataset.id).toArray()).map((s) => [s.text, s.split]));
    const childSamples = await db.samples.where('datasetId').equals(added.dataset.id).toArray();
    expect(childSamples.map((s) => s.text).sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const s of childSamples) if (s.text !== 'd') expect(s.split).toBe(parentSplits[s.text!]);
    await expect(importUpload(db, [entry('x.csv', 'text,label\nz,0\n')], { task: 'text-classification', name: 'v3', parentId: 'nope' }, context)).rejects.toThrow(/nope does not exist/);
  });

  it('reports an image no decoder could read with the decoder\'s reason, and any other failure as unreadable', async () => {
    expect(ImageDecodeError).toBe(DecoderError); // one class, for import and training
    const processor: ImageProcessor = {
      async process(bytes, info, options) {
        if (info.width === 4) throw new ImageDecodeError('the browser could not decode this PNG (bad pixels)');
        if (info.width === 5) throw new TypeError('out of paint');
        return structuralProcessor.process(bytes, info, options);
      },
    };
    const files = [entry('minor/a.png', png(3, 3, 1)), entry('minor/b.png', png(4, 3, 2)), entry('major/c.png', png(5, 3, 3)), entry('major/d.png', png(3, 3, 4))];
    const { report } = await importUpload(makeDb(), files, { task: 'image-classification', name: 'x' }, { processor });
    expect(Object.fromEntries(report.map((s) => [s.item, s.reason]))).toEqual({
      'minor/b.png': 'the browser could not decode this PNG (bad pixels)',
      'major/c.png': 'unreadable (out of paint)',
    });
  });

  it('decodes at most `concurrency` images at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const processor: ImageProcessor = {
      async process(bytes, info, options) {
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return structuralProcessor.process(bytes, info, options);
      },
    };
    const files = Array.from({ length: 20 }, (_, i) => entry(`minor/${i}.png`, png(3, 3, i)));
    const { dataset } = await importUpload(makeDb(), files, { task: 'image-classification', name: 'x', chunkSize: 10, concurrency: 3 }, { processor });
    expect(dataset.sampleCount).toBe(20);
    expect(peak).toBe(3);
  });

  it('assigns k folds when asked, stratified and recorded in the version', async () => {
    const db = makeDb();
    const files = Array.from({ length: 30 }, (_, i) => entry(`${['minor', 'major'][i % 2]}/${i}.png`, png(3, 3, i)));
    const plain = await importUpload(db, files, { task: 'image-classification', name: 'x' }, context);
    const folded = await importUpload(db, files, { task: 'image-classification', name: 'x', kFolds: 5 }, context);
    expect(folded.dataset.id).not.toBe(plain.dataset.id);
    const samples = await db.samples.where('datasetId').equals(folded.dataset.id).toArray();
    const perFold = samples.reduce<Record<number, number>>((acc, s) => ((acc[s.fold!] = (acc[s.fold!] ?? 0) + 1), acc), {});
    expect(perFold).toEqual({ 0: 6, 1: 6, 2: 6, 3: 6, 4: 6 });
  });

  it('stores resized images (hashing what is stored) and keeps originals when asked', async () => {
    const db = makeDb();
    const small = encodePng({ width: 2, height: 1, channels: 3, data: new Uint8Array(6) });
    const resizer: ImageProcessor = {
      async process(bytes, info) {
        return { blob: bytesToBlob(small, 'image/png'), width: 2, height: 1, original: info, resized: true };
      },
    };
    const original = png(50, 40, 5);
    const { dataset } = await importUpload(db, [entry('major/big.png', original)], { task: 'image-classification', name: 'r', keepOriginals: true }, { processor: resizer });
    const [sample] = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(sample).toMatchObject({ width: 2, height: 1, bytes: small.length, hash: await sha256Hex(small), originalSizes: [{ width: 50, height: 40, bytes: original.length }] });
    expect(new Uint8Array(await sample!.originals![0]!.arrayBuffer())).toEqual(original);
  });

  it('unpacks a zip upload and reports its unsafe entries beside the other skips', async () => {
    const { zipSync, strToU8 } = await import('fflate');
    const zip = zipSync({ 'minor/a.png': png(4, 4, 1), 'major/b.png': png(4, 4, 2), '../c.png': png(4, 4, 3), 'moderate/d.png': strToU8('x') });
    const db = makeDb();
    const { dataset, report } = await importUpload(db, [entry('cars.zip', zip)], { task: 'image-classification', name: 'zip' }, context);
    expect(dataset.sampleCount).toBe(2);
    expect(report.map((r) => r.item)).toEqual(['cars.zip: ../c.png', 'moderate/d.png']);
  });
});
