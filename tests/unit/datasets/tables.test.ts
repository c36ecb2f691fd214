import { describe, expect, it } from 'vitest';
import { parseDelimited, parseJsonRecords, readText } from '../../../src/lib/datasets/tables';

describe('manifest tables', () => {
  it('reads CSV with a BOM, quoted newlines and header case/space differences', async () => {
    const text = await readText(new Blob(['\ufeffText , LABEL\n"line one\nline two",positive\n"say ""hi""",0\n\n']));
    const table = parseDelimited('data.csv', text);
    expect(table.columns).toEqual(['text', 'label']);
    expect(table.records.map((r) => r.values)).toEqual([
      { text: 'line one\nline two', label: 'positive' },
      { text: 'say "hi"', label: '0' },
    ]);
    expect(table.records[1]!.where).toBe('data.csv row 3');
  });

  it('detects semicolons and tabs, and takes .tsv as tab-separated', () => {
    expect(parseDelimited('a.csv', 'path;label\nx.png;minor\n').records[0]!.values).toEqual({ path: 'x.png', label: 'minor' });
    expect(parseDelimited('a.txt.tsv', 'text\tlabel\nhello, world\t2\n').records[0]!.values).toEqual({ text: 'hello, world', label: '2' });
  });

  it('reads JSON Lines, reporting each bad line by number', () => {
    const table = parseJsonRecords('d.jsonl', '{"text":"a","label":1}\nnot json\n[1,2]\n\n{"Text":"b","label":"neutral"}\n');
    expect(table.records.map((r) => [r.where, r.values.text])).toEqual([
      ['d.jsonl line 1', 'a'],
      ['d.jsonl line 5', 'b'],
    ]);
    expect(table.skipped).toEqual([
      { item: 'd.jsonl line 2', reason: expect.stringMatching(/not valid JSON/) },
      { item: 'd.jsonl line 3', reason: expect.stringMatching(/expected a JSON object/) },
    ]);
  });

  it('reads a JSON array of objects', () => {
    expect(parseJsonRecords('d.json', '[{"text":"x","label":0}]').records).toEqual([{ where: 'd.json item 1', values: { text: 'x', label: 0 } }]);
  });
});
