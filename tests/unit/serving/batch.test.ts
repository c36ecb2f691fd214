import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { batchResultsCsv, BatchInputError, pairCoinFiles, parseTextCsv, predictInChunks } from '../../../src/lib/serving/batch';

describe('pairCoinFiles', () => {
  it('pairs sides by name suffix or by front/back folders, and reports the rest', () => {
    const paths = [
      'coins/c1_front.jpg',
      'coins/c1_back.jpg',
      'coins/c2-obverse.PNG',
      'coins/c2-reverse.png',
      'coins/c3 front.webp',
      'coins/front/c4.jpg',
      'coins/back/c4.jpg',
      'coins/notes.txt',
      'coins/lonely.jpg',
    ];
    const { pairs, unpaired } = pairCoinFiles(paths, (p) => p);
    expect(pairs.map((p) => [p.id, p.front, p.back])).toEqual([
      ['coins/c1', 'coins/c1_front.jpg', 'coins/c1_back.jpg'],
      ['coins/c2', 'coins/c2-obverse.PNG', 'coins/c2-reverse.png'],
      ['coins/c4', 'coins/front/c4.jpg', 'coins/back/c4.jpg'],
    ]);
    expect(unpaired.sort()).toEqual(['coins/c3 front.webp', 'coins/lonely.jpg']);
  });

  it('does not pair a side twice', () => {
    const { pairs, unpaired } = pairCoinFiles(['a_front.jpg', 'a.front.png', 'a_back.jpg'], (p) => p);
    expect(pairs).toHaveLength(1);
    expect(unpaired).toEqual(['a.front.png']);
  });
});

describe('parseTextCsv', () => {
  it('reads the text column with quoting, a BOM and blank cells', () => {
    const csv = '\uFEFFid,Text\n1,"Hello, world"\n2,\n3,"He said ""wow"""\n';
    expect(parseTextCsv(csv)).toEqual({
      column: 'Text',
      texts: [
        { row: 2, text: 'Hello, world' },
        { row: 4, text: 'He said "wow"' },
      ],
      skipped: [3],
    });
  });

  it('takes a single column whatever its name, and refuses a CSV without a text column', () => {
    expect(parseTextCsv('tweet_body\nnice\n').texts).toEqual([{ row: 2, text: 'nice' }]);
    expect(() => parseTextCsv('a,b\n1,2\n')).toThrow(BatchInputError);
    expect(() => parseTextCsv('a,b\n1,2\n')).toThrow(/needs a "text" column; its columns are "a", "b"/);
  });
});

describe('batchResultsCsv', () => {
  it('writes predictions, scores, probabilities per label and errors', () => {
    const csv = batchResultsCsv(
      [
        { item: 'a.jpg', version: 2, prediction: { kind: 'classification', label: 'major', index: 2, score: 0.7, probabilities: [0.1, 0.2, 0.7] } },
        { item: '=b.jpg', error: 'not an image' },
      ],
      ['minor', 'moderate', 'major'],
    );
    const rows = Papa.parse<Record<string, string>>(csv.trim(), { header: true }).data;
    expect(rows).toEqual([
      { item: 'a.jpg', prediction: 'major', score: '0.7', version: '2', p_minor: '0.1', p_moderate: '0.2', p_major: '0.7', error: '' },
      { item: "'=b.jpg", prediction: '', score: '', version: '', p_minor: '', p_moderate: '', p_major: '', error: 'not an image' },
    ]);
    expect(batchResultsCsv([{ item: 'c1', version: 1, prediction: { kind: 'regression', value: 1862.4 } }])).toBe('item,prediction,score,version,error\nc1,1862.4,,1,\n');
  });
});

describe('predictInChunks', () => {
  it('calls the model once per chunk and reports progress', async () => {
    const calls: number[][] = [];
    const progress: number[] = [];
    const outcomes = await predictInChunks([1, 2, 3, 4, 5], 2, async (chunk) => (calls.push(chunk), chunk.map((n) => n * 10)), {
      onProgress: (done) => progress.push(done),
    });
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
    expect(progress).toEqual([2, 4, 5]);
    expect(outcomes.map((o) => o.result)).toEqual([10, 20, 30, 40, 50]);
  });

  it('isolates a bad item of a failing chunk', async () => {
    const outcomes = await predictInChunks([1, 2, 3], 3, async (chunk) => {
      if (chunk.includes(2)) throw new Error(`item 2 is not an image`);
      return chunk.map((n) => n);
    });
    expect(outcomes).toEqual([{ item: 1, result: 1 }, { item: 2, error: 'item 2 is not an image' }, { item: 3, result: 3 }]);
  });

  it('stops between chunks when cancelled', async () => {
    const controller = new AbortController();
    const outcomes = await predictInChunks([1, 2, 3, 4], 1, async (chunk) => {
      if (chunk[0] === 2) controller.abort();
      return chunk;
    }, { signal: controller.signal });
    expect(outcomes.map((o) => o.item)).toEqual([1, 2]);
  });
});
