import { describe, expect, it } from 'vitest';
import { classSetOf, BINARY_SENTIMENT } from '../../../src/lib/datasets/label-sets';
import { parseUpload } from '../../../src/lib/datasets/parsers';
import { structuralProcessor } from '../../../src/lib/datasets/image-processor';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { exportDataset, exportFileName } from '../../../src/lib/datasets/export';
import { makeDb } from '../factories';
import { entry, png } from './factories';

const SENTIMENT = ['negative', 'neutral', 'positive'];

describe('class sets of an upload', () => {
  it('keeps the preset when most labels are preset names or indices, skipping the rest', () => {
    const set = classSetOf(['negative', '2', 'Positive', 'happy'], SENTIMENT);
    expect(set.mode).toBe('preset');
    expect(set.labels).toEqual(SENTIMENT);
    expect(set.check('2')).toEqual({ ok: true, label: 'positive' });
    expect(set.check('happy')).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown label "happy"; expected one of negative, neutral, positive/) });
  });

  it('reads 0/1-only sentiment as negative/positive, never as tweet_eval negative/neutral', () => {
    const set = classSetOf([0, 1, '1', '0'], SENTIMENT, { binaryNames: BINARY_SENTIMENT });
    expect(set).toMatchObject({ mode: 'binary', labels: ['negative', 'positive'] });
    expect(set.check(1)).toEqual({ ok: true, label: 'positive' });
    expect(classSetOf([0, 1, 2], SENTIMENT, { binaryNames: BINARY_SENTIMENT }).mode).toBe('preset');
  });

  it('takes any other label set as the classes, in natural order', () => {
    const set = classSetOf(['shoe', 'bag', 'shoe', 'class10', 'class2'], ['minor', 'moderate', 'major']);
    expect(set).toMatchObject({ mode: 'custom', labels: ['bag', 'class2', 'class10', 'shoe'] });
    expect(set.check(' bag ')).toEqual({ ok: true, label: 'bag' });
    expect(set.check('')).toMatchObject({ ok: false, reason: expect.stringMatching(/label is empty/) });
  });
});

describe('{text, class} JSON and custom classes in uploads', () => {
  it('reads the UCI sentences format: class 0/1, empty records dropped with the reason', async () => {
    const json = JSON.stringify([
      { text: 'So there is no way for me to plug it in here.', class: 0 },
      { text: 'Great for the jawbone.', class: 1 },
      { text: 'Tied to charger for conversations lasting more than 45 minutes.', class: 0 },
      { text: '', class: null },
    ]);
    const result = await parseUpload('sentiment', [entry('amazon.json', json)]);
    expect(result.labels).toEqual(['negative', 'positive']);
    expect(result.candidates.map((c) => c.label)).toEqual(['negative', 'positive', 'negative']);
    expect(result.skipped).toEqual([{ item: 'amazon.json item 4', reason: expect.stringMatching(/empty text/) }]);
    const db = makeDb();
    const { dataset } = await importUpload(db, [entry('amazon.json', json)], { task: 'sentiment', name: 'amazon', seed: 1 });
    expect(dataset.labels).toEqual(['negative', 'positive']);
  });

  it('reads text tables with their own class names', async () => {
    const csv = 'text,label\nbill me later,billing\nmy screen broke,hardware\nrefund please,billing\nthe fan is loud,hardware\n';
    const result = await parseUpload('sentiment', [entry('support.csv', csv)]);
    expect(result.labels).toEqual(['billing', 'hardware']);
    expect(result.candidates).toHaveLength(4);
  });

  it('reads one folder per class with any class names, the split from a folder above', async () => {
    const upload = [entry('shop/train/shoe/a.png', png(4, 4, 1)), entry('shop/train/bag/b.png', png(4, 4, 2)), entry('shop/test/bag/c.png', png(4, 4, 3)), entry('loose.png', png(4, 4, 4))];
    const result = await parseUpload('image-classification', upload);
    expect(result.labels).toEqual(['bag', 'shoe']);
    expect(result.candidates.map((c) => [c.label, c.split])).toEqual([
      ['shoe', 'train'],
      ['bag', 'train'],
      ['bag', 'test'],
    ]);
    expect(result.skipped).toEqual([{ item: 'loose.png', reason: expect.stringMatching(/not inside a class folder/) }]);
    const db = makeDb();
    const { dataset } = await importUpload(db, upload, { task: 'image-classification', name: 'shop', seed: 1 }, { processor: structuralProcessor });
    expect(dataset.labels).toEqual(['bag', 'shoe']);
  });

  it('exports and re-imports a dataset with its own classes to the same version and classes', async () => {
    const db = makeDb();
    const json = JSON.stringify([
      { text: 'the invoice is wrong', label: 'Billing' },
      { text: 'screen cracked', label: 'Hardware' },
      { text: 'charge me once please', label: 'Billing' },
    ]);
    const { dataset } = await importUpload(db, [entry('support.json', json)], { task: 'sentiment', name: 'support', seed: 1 });
    expect(dataset.labels).toEqual(['Billing', 'Hardware']);
    const zip = await exportDataset(db, dataset.id);
    const fresh = makeDb();
    const again = await importUpload(fresh, [{ path: exportFileName(dataset.name, dataset.id), file: zip }], { task: 'sentiment', name: 'again' });
    expect(again.dataset.id).toBe(dataset.id);
    expect(again.dataset.labels).toEqual(['Billing', 'Hardware']);
    expect(again.report).toEqual([]);
  });
});
