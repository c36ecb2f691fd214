import { describe, expect, it } from 'vitest';
import { classSetOf, mergeClasses } from '../../../src/lib/datasets/label-sets';
import { SENTIMENT_PRESET } from '../../../src/lib/tasks/text-classification';
import { parseUpload } from '../../../src/lib/datasets/parsers';
import { structuralProcessor } from '../../../src/lib/datasets/image-processor';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { exportDataset, exportFileName } from '../../../src/lib/datasets/export';
import { makeDb } from '../factories';
import { entry, png } from './factories';

const SENTIMENT = ['negative', 'neutral', 'positive'];
const DAMAGE = ['minor', 'moderate', 'major'];

describe('class sets of an upload', () => {
  it('takes the preset names the labels use, in preset order, skipping the rest with the preset names', () => {
    const set = classSetOf(['negative', '2', 'Positive', 'happy'], SENTIMENT);
    expect(set.mode).toBe('preset');
    expect(set.labels).toEqual(['negative', 'positive']);
    expect(set.note).toBe('Label 2 read as positive.');
    expect(set.check('2')).toEqual({ ok: true, label: 'positive' });
    expect(set.check('happy')).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown label "happy"; expected one of negative, neutral, positive or 0…2/) });
  });

  it('makes negative/positive labels two classes, never the 3-class preset with an empty neutral', () => {
    const set = classSetOf(['positive', 'negative', 'positive'], SENTIMENT, { binaryNames: SENTIMENT_PRESET.binary, presetName: 'tweet_eval' });
    expect(set).toMatchObject({ mode: 'preset', labels: ['negative', 'positive'] });
    expect(set.note).toBeUndefined();
    expect(classSetOf(['major', 'minor'], DAMAGE).labels).toEqual(['minor', 'major']);
    expect(classSetOf(['neutral', 'negative', 'positive'], SENTIMENT).labels).toEqual(SENTIMENT);
  });

  it('reads 0/1/2 as tweet_eval, saying so, and numbers that do not fit the preset as classes of their own', () => {
    const tweets = classSetOf(['2', '0', '1', 0], SENTIMENT, { binaryNames: SENTIMENT_PRESET.binary, presetName: 'tweet_eval' });
    expect(tweets).toMatchObject({ mode: 'preset', labels: SENTIMENT, note: 'Labels 0, 1, 2 read as negative, neutral, positive (tweet_eval).' });
    expect(tweets.check(1)).toEqual({ ok: true, label: 'neutral' });
    // tweet_eval's emotion subset numbers four classes 0…3 without gaps: 3 is a class of its own.
    const emotions = classSetOf(['0', '1', '2', '3', '3', '1'], SENTIMENT, { binaryNames: SENTIMENT_PRESET.binary, presetName: 'tweet_eval' });
    expect(emotions).toMatchObject({ mode: 'custom', labels: ['0', '1', '2', '3'] });
    expect(emotions.note).toBeUndefined();
    expect(emotions.check('3')).toEqual({ ok: true, label: '3' });
    // A stray number among 0/1/2 labels (a gap in the numbering) is a typo to report, not a class.
    const typo = classSetOf(['0', '1', '2', '2', '10'], SENTIMENT, { binaryNames: SENTIMENT_PRESET.binary, presetName: 'tweet_eval' });
    expect(typo).toMatchObject({ mode: 'preset', labels: SENTIMENT });
    expect(typo.check('10')).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown label "10"/) });
  });

  it('reads 0/1-only sentiment as negative/positive, never as tweet_eval negative/neutral', () => {
    const set = classSetOf([0, 1, '1', '0'], SENTIMENT, { binaryNames: SENTIMENT_PRESET.binary });
    expect(set).toMatchObject({ mode: 'binary', labels: ['negative', 'positive'], note: 'Labels 0, 1 read as negative, positive.' });
    expect(set.check(1)).toEqual({ ok: true, label: 'positive' });
    expect(classSetOf([0, 1, 2], SENTIMENT, { binaryNames: SENTIMENT_PRESET.binary }).mode).toBe('preset');
  });

  it('adds to a version without losing its classes, in preset order where they are preset names', () => {
    expect(mergeClasses(['negative', 'positive'], ['neutral'], SENTIMENT)).toEqual(SENTIMENT);
    expect(mergeClasses(['negative', 'positive'], ['positive'], SENTIMENT)).toEqual(['negative', 'positive']);
    expect(mergeClasses(['billing', 'hardware'], ['billing', 'refunds'], SENTIMENT)).toEqual(['billing', 'hardware', 'refunds']);
  });

  it('takes any other label set as the classes, in natural order', () => {
    const set = classSetOf(['shoe', 'bag', 'shoe', 'class10', 'class2'], ['minor', 'moderate', 'major']);
    expect(set).toMatchObject({ mode: 'custom', labels: ['bag', 'class2', 'class10', 'shoe'] });
    expect(set.check(' bag ')).toEqual({ ok: true, label: 'bag' });
    expect(set.check('')).toMatchObject({ ok: false, reason: expect.stringMatching(/label is empty/) });
  });
});

describe('{text, class} JSON and custom classes in uploads', () => {
  it('reads the UCI sentences format under the sentiment preset: class 0/1 as negative/positive, empty records dropped with the reason', async () => {
    const json = JSON.stringify([
      { text: 'So there is no way for me to plug it in here.', class: 0 },
      { text: 'Great for the jawbone.', class: 1 },
      { text: 'Tied to charger for conversations lasting more than 45 minutes.', class: 0 },
      { text: '', class: null },
    ]);
    const result = await parseUpload('text-classification', [entry('amazon.json', json)], 'sentiment');
    expect(result.labels).toEqual(['negative', 'positive']);
    expect(result.candidates.map((c) => c.label)).toEqual(['negative', 'positive', 'negative']);
    expect(result.skipped).toEqual([{ item: 'amazon.json item 4', reason: expect.stringMatching(/empty text/) }]);
    const db = makeDb();
    const { dataset } = await importUpload(db, [entry('amazon.json', json)], { task: 'text-classification', preset: 'sentiment', name: 'amazon', seed: 1 });
    expect(dataset).toMatchObject({ labels: ['negative', 'positive'], preset: 'sentiment' });
  });

  it('keeps numbered classes as they are without a preset: a 0/1 spam set is not read as sentiment', async () => {
    const csv = 'text,label\nwin a free cruise now,1\nlunch at noon?,0\nclaim your prize,1\nsee you tomorrow,0\n';
    const result = await parseUpload('text-classification', [entry('spam.csv', csv)]);
    expect(result.labels).toEqual(['0', '1']);
    expect(result.notes).toBeUndefined();
    const tweets = await parseUpload('text-classification', [entry('train_text.txt', 'a\nb\nc\n'), entry('train_labels.txt', '0\n1\n2\n')]);
    expect(tweets.labels).toEqual(['0', '1', '2']);
    // An addition to a sentiment version reads its numbers as the parent's preset does.
    const db = makeDb();
    const { dataset: parent } = await importUpload(db, [entry('t.csv', 'text,label\ngood,2\nbad,0\nmeh,1\n')], { task: 'text-classification', preset: 'sentiment', name: 'tweets', seed: 1 });
    const { dataset: child } = await importUpload(db, [entry('more.csv', 'text,label\ngreat,2\n')], { task: 'text-classification', name: 'more', parentId: parent.id, seed: 1 });
    expect(child).toMatchObject({ labels: ['negative', 'neutral', 'positive'], preset: 'sentiment' });
  });

  it('reads text tables with their own class names', async () => {
    const csv = 'text,label\nbill me later,billing\nmy screen broke,hardware\nrefund please,billing\nthe fan is loud,hardware\n';
    const result = await parseUpload('text-classification', [entry('support.csv', csv)]);
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
    const { dataset } = await importUpload(db, [entry('support.json', json)], { task: 'text-classification', name: 'support', seed: 1 });
    expect(dataset.labels).toEqual(['Billing', 'Hardware']);
    const zip = await exportDataset(db, dataset.id);
    const fresh = makeDb();
    const again = await importUpload(fresh, [{ path: exportFileName(dataset.name, dataset.id), file: zip }], { task: 'text-classification', name: 'again' });
    expect(again.dataset.id).toBe(dataset.id);
    expect(again.dataset.labels).toEqual(['Billing', 'Hardware']);
    expect(again.report).toEqual([]);
  });
});

describe('the classes of an upload are the labels in it', () => {
  const reviews = (label: (positive: boolean) => string) =>
    ['text,label', ...Array.from({ length: 12 }, (_, i) => `review number ${i} was ${i % 2 ? 'great' : 'awful'},${label(i % 2 === 1)}`)].join('\n');

  it('imports a negative/positive CSV as two classes, the same version as its 0/1 twin', async () => {
    const db = makeDb();
    const named = await importUpload(db, [entry('reviews.csv', reviews((p) => (p ? 'positive' : 'negative')))], { task: 'text-classification', name: 'named', seed: 1 });
    expect(named.dataset.labels).toEqual(['negative', 'positive']);
    expect(named.notes).toEqual([]);
    const numbered = await importUpload(db, [entry('reviews.csv', reviews((p) => (p ? '1' : '0')))], { task: 'text-classification', preset: 'sentiment', name: 'numbered', seed: 1 });
    expect(numbered.notes).toContain('Labels 0, 1 read as negative, positive.');
    // Same texts, same labels, same classes: one version.
    expect(numbered).toMatchObject({ existed: true, dataset: { id: named.dataset.id } });
  });

  it('reads tweet_eval numbers by the preset and says so in the import notes', async () => {
    const files = [entry('sentiment/train_text.txt', 'good day\nbad day\nok day\n'), entry('sentiment/train_labels.txt', '2\n0\n1\n')];
    const outcome = await importUpload(makeDb(), files, { task: 'text-classification', preset: 'sentiment', name: 'tweets', seed: 1 });
    expect(outcome.dataset.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(outcome.notes).toContain('Labels 0, 1, 2 read as negative, neutral, positive (tweet_eval).');
  });

  it('makes a car-damage folder with only minor/ and major/ a 2-class dataset', async () => {
    const upload = [entry('cars/minor/a.png', png(4, 4, 1)), entry('cars/major/b.png', png(4, 4, 2)), entry('cars/Major/c.png', png(4, 4, 3))];
    const result = await parseUpload('image-classification', upload);
    expect(result.labels).toEqual(['minor', 'major']);
    const { dataset } = await importUpload(makeDb(), upload, { task: 'image-classification', preset: 'car-damage', name: 'cars', seed: 1 }, { processor: structuralProcessor });
    expect(dataset).toMatchObject({ preset: 'car-damage', labels: ['minor', 'major'] });
  });

  it('reads car-damage numbers in a path,label CSV by the preset, saying so', async () => {
    const upload = [entry('labels.csv', 'path,label\na.png,2\nb.png,0\n'), entry('a.png', png(4, 4, 1)), entry('b.png', png(4, 4, 2))];
    const result = await parseUpload('image-classification', upload);
    expect(result.labels).toEqual(['minor', 'major']);
    expect(result.notes).toEqual(['Labels 0, 2 read as minor, major (the Car damage preset).']);
  });

  it('keeps the classes of the version it adds to', async () => {
    const db = makeDb();
    const { dataset: parent } = await importUpload(db, [entry('reviews.csv', reviews((p) => (p ? 'positive' : 'negative')))], { task: 'text-classification', name: 'reviews', seed: 1 });
    const positives = await importUpload(db, [entry('more.csv', 'text,label\nlovely,positive\n')], { task: 'text-classification', name: 'more', parentId: parent.id, seed: 1 });
    expect(positives.dataset.labels).toEqual(['negative', 'positive']);
    const neutral = await importUpload(db, [entry('more.csv', 'text,label\nit is a phone,neutral\n')], { task: 'text-classification', name: 'more', parentId: parent.id, seed: 1 });
    expect(neutral.dataset.labels).toEqual(['negative', 'neutral', 'positive']);
  });
});
