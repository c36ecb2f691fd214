import Papa from 'papaparse';
import { describe, expect, it, vi } from 'vitest';
import type { InferenceLogRow } from '../../../src/lib/db/types';
import { exportLog, queryLog, type LogCursor, type LogFilter } from '../../../src/lib/serving/log-query';
import { makeDb, makeLogRow } from '../factories';

/** 3 models × 40 rows, with many rows sharing a millisecond (as a batch request writes them). */
async function seed() {
  const db = makeDb();
  const rows: InferenceLogRow[] = [];
  for (let i = 0; i < 120; i++) {
    rows.push(
      makeLogRow({
        model: ['sentiment', 'coin-year', 'car-damage'][i % 3]!,
        ts: 1000 + Math.floor(i / 7), // runs of 7 rows share a timestamp
        source: i % 4 === 0 ? 'rest' : 'ui',
        input: { text: `row ${i}` },
      }),
    );
  }
  await db.inferenceLog.bulkAdd(rows);
  return db;
}

async function allPages(db: Awaited<ReturnType<typeof seed>>, filter: LogFilter, limit: number) {
  const pages: InferenceLogRow[][] = [];
  let after: LogCursor | undefined;
  do {
    const page = await queryLog(db, filter, { after, limit });
    pages.push(page.rows);
    after = page.next;
  } while (after);
  return pages;
}

describe('queryLog: keyset paging', () => {
  it.each<[string, LogFilter]>([
    ['all rows', {}],
    ['one model', { model: 'coin-year' }],
    ['one model and source', { model: 'sentiment', source: 'rest' }],
    ['a time range', { from: 1003, to: 1010 }],
    ['a model in a time range', { model: 'car-damage', from: 1005, to: 1012 }],
  ])('pages through %s newest first, every row exactly once, even across equal timestamps', async (_, filter) => {
    const db = await seed();
    const everything = await db.inferenceLog.toArray();
    const expected = everything
      .filter(
        (r) =>
          (!filter.model || r.model === filter.model) &&
          (!filter.source || r.source === filter.source) &&
          r.ts >= (filter.from ?? -Infinity) &&
          r.ts <= (filter.to ?? Infinity),
      )
      .sort((a, b) => b.ts - a.ts || b.id! - a.id!)
      .map((r) => r.id);
    for (const limit of [1, 3, 7, 10, 500]) {
      const pages = await allPages(db, filter, limit);
      expect(pages.flat().map((r) => r.id)).toEqual(expected);
      expect(pages.every((p) => p.length <= limit)).toBe(true);
    }
  });

  it('reads by index range from the cursor, never by offset', async () => {
    const db = await seed();
    const offset = vi.spyOn(Object.getPrototypeOf(db.inferenceLog.toCollection()), 'offset');
    const first = await queryLog(db, { model: 'sentiment' }, { limit: 5 });
    const second = await queryLog(db, { model: 'sentiment' }, { after: first.next, limit: 5 });
    expect(second.rows[0]!.ts).toBeLessThanOrEqual(first.rows.at(-1)!.ts);
    expect(offset).not.toHaveBeenCalled();
  });

  it('says when there is no next page', async () => {
    const db = await seed();
    await expect(queryLog(db, { model: 'nothing' })).resolves.toEqual({ rows: [] });
    const page = await queryLog(db, { model: 'sentiment' }, { limit: 40 });
    expect(page.rows).toHaveLength(40);
    expect(page.next).toBeUndefined();
  });
});

describe('exportLog', () => {
  it('writes the filtered rows as CSV with a header, and as JSON Lines', async () => {
    const db = makeDb();
    await db.inferenceLog.bulkAdd([
      makeLogRow({ ts: 1, input: { text: '=cmd()' }, feedback: 'negative' }),
      makeLogRow({ ts: 2, model: 'coin-year', input: { hash: 'ab+cd', bytes: 99 }, output: { kind: 'regression', value: 1862.4 }, score: undefined }),
      makeLogRow({ ts: 3, input: { text: 'a, "quoted" text' } }),
    ]);
    const csv = await (await exportLog(db, { model: 'sentiment' }, 'csv')).text();
    const parsed = Papa.parse<Record<string, string>>(csv.trim(), { header: true });
    expect(parsed.data.map((r) => [r.input_text, r.prediction, r.feedback])).toEqual([
      ['a, "quoted" text', 'positive', ''],
      // Formula-looking cells are escaped so a spreadsheet does not run them.
      ["'=cmd()", 'positive', 'negative'],
    ]);
    const jsonl = (await (await exportLog(db, {}, 'jsonl')).text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(jsonl.map((r) => [r.model, r.prediction, r.input_hash])).toEqual([
      ['sentiment', 'positive', null],
      ['coin-year', 1862.4, 'ab+cd'],
      ['sentiment', 'positive', null],
    ]);
  });

  it('writes just the header for an empty selection', async () => {
    const db = makeDb();
    const csv = await (await exportLog(db, { model: 'x' }, 'csv')).text();
    expect(csv.trim().split('\n')).toHaveLength(1);
    expect(csv).toMatch(/^id,time,model,version/);
  });
});
