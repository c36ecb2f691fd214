import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { installDemoData } from '../../../src/lib/datasets/demo/install';
import { exportDataset, exportFileName } from '../../../src/lib/datasets/export';
import { structuralProcessor } from '../../../src/lib/datasets/image-processor';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { createSubset } from '../../../src/lib/datasets/store';
import { makeDb } from '../factories';
import { entry } from './factories';

const context = { processor: structuralProcessor };

describe('export and re-import', () => {
  it('round-trips every task to the same version id, in a fresh database too', async () => {
    const db = makeDb();
    const { installed } = await installDemoData(db, { coins: { count: 6, size: 40 }, cars: { count: 6 }, processor: structuralProcessor });
    for (const dataset of installed) {
      const zip = await exportDataset(db, dataset.id);
      const upload = [{ path: exportFileName(dataset.name, dataset.id), file: zip }];
      const fresh = makeDb();
      const outcome = await importUpload(fresh, upload, { task: dataset.task, name: 'reimported' }, context);
      expect(outcome.dataset.id).toBe(dataset.id);
      expect(outcome.exportedId).toBe(dataset.id);
      expect(outcome.report).toEqual([]);
      expect(outcome.dataset).toMatchObject({ sampleCount: dataset.sampleCount, synthetic: true });
      const before = (await db.samples.where('datasetId').equals(dataset.id).toArray()).map((s) => [s.hash, s.label, s.split]).sort();
      const after = (await fresh.samples.where('datasetId').equals(dataset.id).toArray()).map((s) => [s.hash, s.label, s.split]).sort();
      expect(after).toEqual(before);
      const same = await importUpload(db, upload, { task: dataset.task, name: 'again' }, context);
      expect(same.existed).toBe(true);
    }
  });

  it('writes the manifest, the silver table and the image files', async () => {
    const db = makeDb();
    const { installed } = await installDemoData(db, { only: ['cars'], cars: { count: 3 }, processor: structuralProcessor });
    const files = unzipSync(new Uint8Array(await (await exportDataset(db, installed[0]!.id)).arrayBuffer()));
    const manifest = JSON.parse(strFromU8(files['loupe-dataset.json']!));
    expect(manifest).toMatchObject({ format: 'loupe-dataset', formatVersion: 1, id: installed[0]!.id, task: 'image-classification', synthetic: true });
    expect(manifest.samples).toHaveLength(3);
    const csv = strFromU8(files['manifest.csv']!).split(/\r?\n/);
    expect(csv[0]).toBe('path,label,split,height,width,bytes,hash,source');
    expect(Object.keys(files).filter((f) => f.startsWith('images/') && f.endsWith('.png'))).toHaveLength(3);
  });

  it('refuses an export for another task, naming both', async () => {
    const db = makeDb();
    const { installed } = await installDemoData(db, { only: ['tweets'], processor: structuralProcessor });
    const zip = await exportDataset(db, installed[0]!.id);
    await expect(importUpload(makeDb(), [{ path: 'x.zip', file: zip }], { task: 'image-classification', name: 'x' }, context)).rejects.toThrow(/is a text-classification dataset, but the import is for image-classification/);
  });

  it('re-imports an export written when image classification was the task car-damage, to the same version id', async () => {
    const db = makeDb();
    const { installed } = await installDemoData(db, { only: ['cars'], cars: { count: 3 }, processor: structuralProcessor });
    const dataset = installed[0]!;
    const files = unzipSync(new Uint8Array(await (await exportDataset(db, dataset.id)).arrayBuffer()));
    const manifest = JSON.parse(strFromU8(files['loupe-dataset.json']!));
    expect(manifest).toMatchObject({ task: 'image-classification', preset: 'car-damage' });
    const { preset: _, ...older } = manifest;
    const legacy = zipSync({ ...files, 'loupe-dataset.json': strToU8(JSON.stringify({ ...older, task: 'car-damage' })) });
    const upload = [{ path: 'old-cars.zip', file: new Blob([legacy]) }];
    const fresh = makeDb();
    const outcome = await importUpload(fresh, upload, { task: 'image-classification', name: 'old cars' }, context);
    expect(outcome.dataset).toMatchObject({ id: dataset.id, task: 'image-classification', preset: 'car-damage', labels: ['minor', 'moderate', 'major'], sampleCount: 3 });
    expect(outcome.report).toEqual([]);
    // Today's export says its preset, so the round trip keeps it too.
    const current = await importUpload(makeDb(), [{ path: 'cars.zip', file: new Blob([zipSync(files)]) }], { task: 'image-classification', name: 'cars' }, context);
    expect(current.dataset).toMatchObject({ id: dataset.id, preset: 'car-damage' });
    await expect(importUpload(makeDb(), upload, { task: 'coin-year', name: 'x' }, context)).rejects.toThrow(/is an? image-classification dataset, but the import is for coin-year/);
  });

  it('round-trips a 2-class sentiment set, and re-imports one exported before ids covered classes to its recorded id', async () => {
    const db = makeDb();
    const csv = ['text,label', ...Array.from({ length: 10 }, (_, i) => `review ${i},${i % 2}`)].join('\n');
    const { dataset } = await importUpload(db, [entry('uci.csv', csv)], { task: 'text-classification', preset: 'sentiment', name: 'uci', seed: 1 }, context);
    expect(dataset.labels).toEqual(['negative', 'positive']);
    const files = unzipSync(new Uint8Array(await (await exportDataset(db, dataset.id)).arrayBuffer()));
    const again = await importUpload(makeDb(), [{ path: 'uci.zip', file: new Blob([zipSync(files)]) }], { task: 'text-classification', name: 'again' }, context);
    expect(again).toMatchObject({ exportedId: dataset.id, dataset: { id: dataset.id, labels: ['negative', 'positive'], preset: 'sentiment' } });
    // An export written earlier recorded the id hashed without the class list: it keeps that id.
    const manifest = JSON.parse(strFromU8(files['loupe-dataset.json']!));
    const samples = await db.samples.where('datasetId').equals(dataset.id).toArray();
    const lines = samples.map((s) => `${s.hash}\t${JSON.stringify(s.label)}\t${s.split}\t`).sort();
    const legacyId = createHash('sha256').update(`loupe-dataset-version 1\nsentiment\n${lines.join('\n')}`).digest('hex');
    expect(legacyId).not.toBe(dataset.id);
    // Written when sentiment was a task of its own: it names the task so, and no preset.
    const older = zipSync({ ...files, 'loupe-dataset.json': strToU8(JSON.stringify({ ...manifest, id: legacyId, task: 'sentiment', preset: undefined })) });
    const outcome = await importUpload(makeDb(), [{ path: 'old-uci.zip', file: new Blob([older]) }], { task: 'text-classification', name: 'old' }, context);
    expect(outcome).toMatchObject({ exportedId: legacyId, dataset: { id: legacyId, task: 'text-classification', preset: 'sentiment', labels: ['negative', 'positive'] } });
  });

  it('draws a reproducible subset as a new version whose parent is the source', async () => {
    const db = makeDb();
    const lines = Array.from({ length: 90 }, (_, i) => `tweet number ${i},${i % 3},${i < 60 ? 'train' : 'val'}`);
    const { dataset } = await importUpload(db, [entry('t.csv', ['text,label,split', ...lines].join('\n'))], { task: 'text-classification', preset: 'sentiment', name: 'full' }, context);
    const subset = await createSubset(db, dataset.id, { trainSize: 30, evalSize: 9, seed: 42 });
    expect(subset.dataset).toMatchObject({ parentId: dataset.id, sampleCount: 39, splits: { train: 30, val: 9 }, origin: 'subset', preset: 'sentiment' });
    const again = await createSubset(db, dataset.id, { trainSize: 30, evalSize: 9, seed: 42 });
    expect(again).toMatchObject({ existed: true, dataset: { id: subset.dataset.id } });
    const other = await createSubset(db, dataset.id, { trainSize: 30, evalSize: 9, seed: 1 });
    expect(other.dataset.id).not.toBe(subset.dataset.id);
    const labels = (await db.samples.where('datasetId').equals(subset.dataset.id).toArray()).filter((s) => s.split === 'train').map((s) => s.label);
    expect(labels.filter((l) => l === 'negative')).toHaveLength(10);
  });
});
