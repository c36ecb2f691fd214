import Papa from 'papaparse';
import { extension } from './paths';
import type { SkippedItem } from './types';

/** One record of a manifest, with the name reports use for it (`labels.csv row 12`, `data.jsonl line 3`). */
export interface TableRecord {
  where: string;
  values: Record<string, unknown>;
}

export interface Table {
  file: string;
  /** Column names, lower-cased and trimmed. */
  columns: string[];
  records: TableRecord[];
  skipped: SkippedItem[];
}

export const TABLE_EXTENSIONS = new Set(['csv', 'tsv', 'jsonl', 'ndjson', 'json']);

/** Whether a path is a manifest format Loupe reads. */
export function isTableFile(path: string): boolean {
  return TABLE_EXTENSIONS.has(extension(path));
}

/** Text of a file, UTF-8, without a byte-order mark. */
export async function readText(file: Blob): Promise<string> {
  const text = new TextDecoder('utf-8').decode(await file.arrayBuffer());
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses CSV or TSV with papaparse: quoted fields may span lines, the delimiter is detected (comma,
 * semicolon, tab, pipe) unless the extension says TSV. Rows are numbered as a spreadsheet shows them
 * (the header is row 1), so `row 12` is line 12 when no field spans lines.
 */
export function parseDelimited(file: string, text: string): Table {
  const result = Papa.parse<Record<string, string>>(text, {
    header: true,
    skipEmptyLines: 'greedy',
    delimiter: extension(file) === 'tsv' ? '\t' : '',
    delimitersToGuess: [',', '\t', ';', '|'],
    transformHeader: (header) => header.trim().toLowerCase(),
  });
  const columns = (result.meta.fields ?? []).filter((f) => f !== '');
  const skipped: SkippedItem[] = [];
  const bad = new Map<number, string>();
  for (const error of result.errors) {
    if (error.type === 'Delimiter') continue; // a one-column file has no delimiter to detect
    if (error.row !== undefined && error.row !== null) bad.set(error.row, error.message);
  }
  const records: TableRecord[] = [];
  result.data.forEach((values, index) => {
    const where = `${file} row ${index + 2}`;
    const problem = bad.get(index);
    // A row with too few fields is still usable when the fields we need are present; other errors are not.
    if (problem && !/too few fields/i.test(problem)) {
      skipped.push({ item: where, reason: `unreadable row: ${problem}` });
      return;
    }
    if (Array.isArray((values as { __parsed_extra?: unknown }).__parsed_extra)) {
      delete (values as { __parsed_extra?: unknown }).__parsed_extra;
    }
    records.push({ where, values });
  });
  return { file, columns, records, skipped };
}

/** JSON Lines (one object per line; a bad line is skipped with its line number) or a JSON array of objects. */
export function parseJsonRecords(file: string, text: string): Table {
  const records: TableRecord[] = [];
  const skipped: SkippedItem[] = [];
  const columns = new Set<string>();
  const add = (where: string, value: unknown) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      skipped.push({ item: where, reason: 'expected a JSON object like {"text": …, "label": …}' });
      return;
    }
    const values: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const name = key.trim().toLowerCase();
      values[name] = v;
      columns.add(name);
    }
    records.push({ where, values });
  };
  const trimmed = text.trim();
  if (extension(file) === 'json' && trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      return { file, columns: [], records: [], skipped: [{ item: file, reason: `not valid JSON: ${(error as Error).message}` }] };
    }
    (parsed as unknown[]).forEach((value, i) => add(`${file} item ${i + 1}`, value));
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${file} line ${i + 1}`;
      try {
        add(where, JSON.parse(line));
      } catch {
        skipped.push({ item: where, reason: 'not valid JSON (each line must be one JSON object)' });
      }
    });
  }
  return { file, columns: [...columns], records, skipped };
}

/** Reads a manifest of any supported format. */
export async function readTable(path: string, file: Blob): Promise<Table> {
  const text = await readText(file);
  return ['csv', 'tsv'].includes(extension(path)) ? parseDelimited(path, text) : parseJsonRecords(path, text);
}

/** A field as trimmed text ('' when missing or null). */
export function field(record: TableRecord, name: string): string {
  const value = record.values[name];
  return value === undefined || value === null ? '' : String(value).trim();
}
