import { describe, expect, it } from 'vitest';
import { DatasetValidationError } from '../../../src/lib/datasets/errors';
import { parseUpload } from '../../../src/lib/datasets/parsers';
import type { Candidate, ImageCandidate, TextCandidate } from '../../../src/lib/datasets/types';
import { entry, png } from './factories';

const paths = (c: Candidate) => (c as ImageCandidate).files.map((f) => f.path);
const year = new Date().getFullYear();

describe('coin-year manifests', () => {
  const images = ['a_front.png', 'a_back.png', 'b_front.png', 'b_back.png', 'c_front.png', 'd_front.png', 'd_back.png', 'e_front.png', 'e_back.png', 'f_front.png', 'f_back.png'].map((p, i) =>
    entry(`coins/img/${p}`, png(2, 2, i)),
  );

  it('pairs front and back per row, and reports each bad row with its reason', async () => {
    const csv = [
      'front,back,year',
      'img/a_front.png,img/a_back.png,1862',
      'img/b_front.png,img/b_back.png, 1999 ',
      'img/c_front.png,img/c_back.png,1900', // back missing
      'img/d_front.png,img/d_back.png,18x2',
      'img/e_front.png,img/e_back.png,1400',
      `img/f_front.png,img/f_back.png,${year + 1}`,
      'img/a_front.png,,1950',
      '../../etc/passwd,img/b_back.png,1950',
    ].join('\n');
    const result = await parseUpload('coin-year', [entry('coins/manifest.csv', csv), ...images, entry('coins/img/stray.png', png(2, 2, 99))]);
    expect(result.candidates.map((c) => [c.label, ...paths(c)])).toEqual([
      [1862, 'coins/img/a_front.png', 'coins/img/a_back.png'],
      [1999, 'coins/img/b_front.png', 'coins/img/b_back.png'],
    ]);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.item, s.reason]));
    expect(reasons['coins/manifest.csv row 4']).toMatch(/missing pair partner: back image "img\/c_back.png" is not in the upload/);
    expect(reasons['coins/manifest.csv row 5']).toMatch(/year "18x2" is not an integer/);
    expect(reasons['coins/manifest.csv row 6']).toMatch(/year 1400 is outside the plausible range 1500…/);
    expect(reasons['coins/manifest.csv row 7']).toMatch(new RegExp(`year ${year + 1} is outside`));
    expect(reasons['coins/manifest.csv row 8']).toMatch(/missing pair partner: no back image given/);
    expect(reasons['coins/manifest.csv row 9']).toMatch(/front path .*'\.\.'/);
    expect(reasons['coins/img/stray.png']).toBe('not referenced by coins/manifest.csv');
    expect(result.skipped).toHaveLength(7);
  });

  it('reads JSONL manifests, with paths from the upload root and a split column', async () => {
    const jsonl = ['{"front":"coins/img/a_front.png","back":"coins/img/a_back.png","year":1880,"split":"test"}', '{"front":"coins/img/b_front.png","back":"coins/img/b_back.png","year":"1901","split":"holdout"}'].join('\n');
    const result = await parseUpload('coin-year', [entry('meta/coins.jsonl', jsonl), ...images.slice(0, 4)]);
    expect(result.candidates).toHaveLength(1);
    expect(result.candidates[0]).toMatchObject({ label: 1880, split: 'test' });
    expect(result.skipped).toContainEqual({ item: 'meta/coins.jsonl line 2', reason: expect.stringMatching(/unknown split "holdout"/) });
  });

  it('fails the whole import when the manifest lacks a required column, naming it', async () => {
    const error = await parseUpload('coin-year', [entry('m.csv', 'front,back,date\na.png,b.png,1900\n'), ...images]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetValidationError);
    expect((error as DatasetValidationError).message).toMatch(/m\.csv has no column "year" \(found: front, back, date\)/);
    expect(error).toMatchObject({ file: 'm.csv', field: 'year' });
    await expect(parseUpload('coin-year', images)).rejects.toThrow(/No manifest found/);
  });
});

describe('image-classification uploads (car-damage preset)', () => {
  it('labels by class folder (any depth, any case), with train/val folders as splits', async () => {
    const files = [
      entry('cars/train/minor/1.png', png(2, 2, 1)),
      entry('cars/train/Moderate/2.png', png(2, 2, 2)),
      entry('cars/val/major/3.jpg', png(2, 2, 3)),
      entry('cars/severe/4.png', png(2, 2, 4)),
      entry('cars/loose.png', png(2, 2, 5)),
    ];
    const result = await parseUpload('image-classification', files);
    expect(result.candidates.map((c) => [c.item, c.label, c.split])).toEqual([
      ['cars/train/minor/1.png', 'minor', 'train'],
      ['cars/train/Moderate/2.png', 'moderate', 'train'],
      ['cars/val/major/3.jpg', 'major', 'val'],
    ]);
    expect(result.skipped).toEqual([
      { item: 'cars/severe/4.png', reason: expect.stringMatching(/unknown label "severe" \(its folder\); expected a folder named minor, moderate, major/) },
      { item: 'cars/loose.png', reason: expect.stringMatching(/unknown label "cars"|not inside a class folder/) },
    ]);
  });

  it('reads a path,label CSV and reports unknown labels and missing files by row', async () => {
    const csv = 'path,label\nimgs/a.png,minor\nimgs/b.png,2\nimgs/c.png,catastrophic\nimgs/missing.png,minor\n';
    const files = ['a', 'b', 'c'].map((n, i) => entry(`imgs/${n}.png`, png(2, 2, i)));
    const result = await parseUpload('image-classification', [entry('labels.csv', csv), ...files]);
    expect(result.candidates.map((c) => [paths(c)[0], c.label])).toEqual([
      ['imgs/a.png', 'minor'],
      ['imgs/b.png', 'major'],
    ]);
    expect(result.skipped).toContainEqual({ item: 'labels.csv row 4', reason: expect.stringMatching(/unknown label "catastrophic"; expected one of minor, moderate, major/) });
    expect(result.skipped).toContainEqual({ item: 'labels.csv row 5', reason: 'image "imgs/missing.png" is not in the upload' });
  });

  it('explains what it expected when there are neither folders nor a manifest', async () => {
    await expect(parseUpload('image-classification', [entry('a.png', png())])).rejects.toThrow(/one folder per class/);
    await expect(parseUpload('image-classification', [entry('a.png', png()), entry('l.csv', 'file,class\na.png,minor\n')])).rejects.toThrow(/l\.csv has no columns "path", "label"/);
  });
});

describe('text uploads under the sentiment preset', () => {
  it('reads text,label tables with 0/1/2 or names, skipping empty texts and unknown labels', async () => {
    const csv = 'id,text,label\n1,I love it,2\n2,  ,positive\n3,"meh, fine",neutral\n4,so bad,NEGATIVE\n5,hmm,happy\n';
    const result = await parseUpload('text-classification', [entry('tweets.csv', csv)], 'sentiment');
    expect(result.candidates.map((c) => [(c as TextCandidate).text, c.label])).toEqual([
      ['I love it', 'positive'],
      ['meh, fine', 'neutral'],
      ['so bad', 'negative'],
    ]);
    expect(result.skipped).toEqual([
      { item: 'tweets.csv row 3', reason: 'empty text' },
      { item: 'tweets.csv row 6', reason: expect.stringMatching(/unknown label "happy"; expected one of negative, neutral, positive or 0…2/) },
    ]);
  });

  it('reads the tweet_eval layout line by line, splits from the file names', async () => {
    const files = [
      entry('sentiment/train_text.txt', 'good day\nbad day\nok day\n'),
      entry('sentiment/train_labels.txt', '2\n0\n1\n'),
      entry('sentiment/val_text.txt', 'nice\nextra line\n'),
      entry('sentiment/val_labels.txt', '2\n'),
      entry('sentiment/mapping.txt', '0\tnegative\n'),
    ];
    const result = await parseUpload('text-classification', files, 'sentiment');
    expect(result.candidates.map((c) => [(c as TextCandidate).text, c.label, c.split])).toEqual([
      ['good day', 'positive', 'train'],
      ['bad day', 'negative', 'train'],
      ['ok day', 'neutral', 'train'],
      ['nice', 'positive', 'val'],
    ]);
    expect(result.skipped).toContainEqual({ item: 'sentiment/val_text.txt line 2', reason: 'no label: sentiment/val_labels.txt has only 1 lines' });
  });

  it('names the missing column', async () => {
    await expect(parseUpload('text-classification', [entry('t.tsv', 'tweet\tlabel\nhi\t1\n')])).rejects.toThrow(/t\.tsv has no column "text" \(found: tweet, label\)/);
  });
});
