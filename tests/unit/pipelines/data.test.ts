import { describe, expect, it } from 'vitest';
import { addToBase, collectNewData, countNewLabelled, validateNewData } from '../../../src/lib/pipelines/data';
import { makeDb, makeLogRow, seedSentimentDataset } from '../factories';
import { makePipeline, T0 } from './helpers';

describe('pipeline data', () => {
  it('takes samples of versions imported since the last run that the base lacks, keeping their splits', async () => {
    const db = makeDb();
    const baseId = await seedSentimentDataset(db, 'base', 5);
    const pipeline = { ...makePipeline(), state: { datasetId: baseId, watermark: T0 } };
    // A later import: one sample the base already has (same content hash), two new ones.
    await db.datasets.add({ id: 'later', name: 'new tweets', task: 'text-classification', createdAt: T0 + 10, sampleCount: 3 });
    await db.samples.bulkAdd([
      { id: 'l-0', datasetId: 'later', split: 'train', label: 'positive', hash: 'positive-0', path: 'dup', text: 'the service was great' },
      { id: 'l-1', datasetId: 'later', split: 'test', label: 'negative', hash: 'h-new-1', path: 'a.csv row 2', text: 'cold coffee again, awful' },
      { id: 'l-2', datasetId: 'later', split: 'train', label: 'neutral', hash: 'h-new-2', path: 'a.csv row 3', text: 'the meeting moved to friday' },
    ]);
    // Too old, another task: not new data for this pipeline.
    await db.datasets.add({ id: 'old', name: 'old', task: 'text-classification', createdAt: T0 - 10, sampleCount: 0 });
    await db.datasets.add({ id: 'coins', name: 'coins', task: 'coin-year', createdAt: T0 + 20, sampleCount: 0 });

    const collected = await collectNewData(db, pipeline, T0, T0 + 100);
    expect(collected).toMatchObject({ base: { id: baseId }, sampleIds: ['l-1', 'l-2'], logIds: [], imports: [{ id: 'later', name: 'new tweets' }] });
    expect(await countNewLabelled(db, pipeline, T0, T0 + 100)).toBe(3);

    const validated = await validateNewData(db, 'text-classification', collected);
    expect(validated.candidates.map((c) => [c.item, c.split])).toEqual([
      ['a.csv row 2 (sample l-1)', 'test'],
      ['a.csv row 3 (sample l-2)', 'train'],
    ]);
    const version = await addToBase(db, pipeline, baseId, validated, { seed: 1 });
    expect(version).toMatchObject({ added: 2, existed: false });
    const splits = await db.samples.where('datasetId').equals(version.datasetId).filter((s) => s.path.startsWith('a.csv')).toArray();
    expect(splits.map((s) => s.split).sort()).toEqual(['test', 'train']);
    // Again, after an interruption: the same content gives the same version.
    expect(await addToBase(db, pipeline, baseId, await validateNewData(db, 'text-classification', collected), { seed: 1 })).toMatchObject({ datasetId: version.datasetId, existed: true });
  });

  it("learns topics from new imports and feedback: labels are checked against the base's classes, which the new version keeps", async () => {
    const db = makeDb();
    const topics = ['politics', 'sports', 'tech'];
    await db.datasets.add({ id: 'news', name: 'news', task: 'text-classification', createdAt: T0 - 10, sampleCount: 3, labels: topics });
    await db.samples.bulkAdd(topics.map((label, i) => ({ id: `n-${i}`, datasetId: 'news', split: 'train' as const, label, hash: `n-${i}`, path: `row ${i}`, text: `${label} story ${i}` })));
    const pipeline = { ...makePipeline({ model: 'news' }), state: { datasetId: 'news', watermark: T0 } };
    await db.datasets.add({ id: 'more', name: 'more news', task: 'text-classification', createdAt: T0 + 10, sampleCount: 2, labels: ['sports', 'weather'] });
    await db.samples.bulkAdd([
      { id: 'm-0', datasetId: 'more', split: 'train', label: 'sports', hash: 'm-0', path: 'b.csv row 2', text: 'a late winner in the derby' },
      { id: 'm-1', datasetId: 'more', split: 'train', label: 'weather', hash: 'm-1', path: 'b.csv row 3', text: 'rain all week' },
    ]);
    await db.inferenceLog.add(makeLogRow({ model: 'news', task: 'text-classification', input: { text: 'new phone launched' }, feedback: 'tech', feedbackAt: T0 + 5 }));

    const collected = await collectNewData(db, pipeline, T0, T0 + 100);
    expect(collected.base.labels).toEqual(topics);
    const validated = await validateNewData(db, 'text-classification', collected);
    expect(validated.candidates.map((c) => c.label)).toEqual(['sports', 'tech']);
    expect(validated.report).toEqual([{ item: 'b.csv row 3 (sample m-1)', reason: 'label: unknown label "weather"; expected one of politics, sports, tech or 0…2' }]);
    const version = await addToBase(db, pipeline, 'news', validated, { seed: 1 });
    await expect(db.datasets.get(version.datasetId)).resolves.toMatchObject({ labels: topics, sampleCount: 5, parentId: 'news' });
  });

  it('reports log rows it cannot learn from, naming the row and the reason', async () => {
    const db = makeDb();
    const ids = await db.inferenceLog.bulkAdd(
      [
        makeLogRow({ model: 'coins', task: 'coin-year', input: { hash: 'abc', bytes: 10 }, feedback: 1901, feedbackAt: T0 + 1 }),
        makeLogRow({ model: 'coins', task: 'coin-year', input: { images: [new Blob(['x'])] }, feedback: 1901, feedbackAt: T0 + 2 }),
        makeLogRow({ model: 'coins', task: 'coin-year', input: { hash: 'abc', bytes: 10 }, feedback: 'nineteen-oh-one', feedbackAt: T0 + 3 }),
      ],
      { allKeys: true },
    );
    const { candidates, report } = await validateNewData(db, 'coin-year', { sampleIds: [], logIds: ids as number[] });
    expect(candidates).toEqual([]);
    expect(report.map((r) => r.reason)).toEqual([
      'input: the image was not kept (log retention stores only its hash); raise image retention in Settings to learn from feedback',
      'input: expected 2 image(s), the log kept 1',
      'feedback: year "nineteen-oh-one" is not an integer; expected a whole year like 1862',
    ]);
    expect(report[0]!.item).toMatch(/^inference log row \d+ \(coins v1\)$/);
  });
});
