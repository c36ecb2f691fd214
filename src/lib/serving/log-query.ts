import Papa from 'papaparse';
import type { LoupeDb } from '$lib/db/db';
import type { InferenceLogRow, LogSource } from '$lib/db/types';

/** What the Log page filters by; every field optional. Time bounds are inclusive, in ms since the epoch. */
export interface LogFilter {
  model?: string;
  source?: LogSource;
  from?: number;
  to?: number;
}

/** Where a page ended: the last row's time and id (rows of the same millisecond are ordered by id). */
export interface LogCursor {
  ts: number;
  id: number;
}

export interface LogPage {
  rows: InferenceLogRow[];
  /** Pass as `after` for the next (older) page; absent on the last page. */
  next?: LogCursor;
}

/**
 * One page of the log, newest first, by keyset paging: the range query on `[model+ts]` (or `ts` for
 * all models) starts at the cursor, so page 1000 costs what page 1 does — no offset is ever skipped.
 * @example let page = await queryLog(db, { model: 'sentiment' }); page = await queryLog(db, filter, { after: page.next });
 */
export async function queryLog(db: LoupeDb, filter: LogFilter, options: { after?: LogCursor; limit?: number } = {}): Promise<LogPage> {
  const limit = options.limit ?? 50;
  const { after } = options;
  const lower = filter.from ?? -Infinity;
  const upper = Math.min(filter.to ?? Infinity, after?.ts ?? Infinity);
  if (lower > upper) return { rows: [] };
  const range =
    filter.model !== undefined
      ? db.inferenceLog.where('[model+ts]').between([filter.model, lower], [filter.model, upper], true, true)
      : db.inferenceLog.where('ts').between(lower, upper, true, true);
  const rows = await range
    .reverse()
    // Only rows of the cursor's own millisecond need the id test; older ones all pass.
    .filter((row) => (!after || row.ts < after.ts || row.id! < after.id) && (!filter.source || row.source === filter.source))
    .limit(limit + 1)
    .toArray();
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown.at(-1);
  return more && last ? { rows: shown, next: { ts: last.ts, id: last.id! } } : { rows: shown };
}

/** Every row matching a filter, newest first, a page at a time. */
export async function* iterateLog(db: LoupeDb, filter: LogFilter, pageSize = 500): AsyncGenerator<InferenceLogRow[]> {
  let after: LogCursor | undefined;
  do {
    const page = await queryLog(db, filter, { after, limit: pageSize });
    if (page.rows.length) yield page.rows;
    after = page.next;
  } while (after);
}

/** A log row as flat export columns (images by hash and size, never their bytes). */
export function exportRecord(row: InferenceLogRow): Record<string, string | number | null> {
  const output = row.output as { kind?: string; value?: number; label?: string } | undefined;
  return {
    id: row.id ?? null,
    time: new Date(row.ts).toISOString(),
    model: row.model,
    version: row.version,
    source: row.source,
    backend: row.backend,
    input_text: row.input.text ?? null,
    input_hash: row.input.hash ?? null,
    input_bytes: row.input.bytes ?? null,
    prediction: output?.kind === 'regression' ? (output.value ?? null) : (output?.label ?? null),
    score: row.score ?? null,
    latency_ms: Math.round(row.latencyMs * 100) / 100,
    feedback: row.feedback ?? null,
    output: JSON.stringify(row.output ?? null),
  };
}

export type ExportFormat = 'csv' | 'jsonl';

/**
 * The rows matching a filter as a CSV or JSON Lines file (built page by page, newest first).
 * @example downloadBlob(await exportLog(db, { model: 'sentiment' }, 'csv'), 'log.csv')
 */
export async function exportLog(db: LoupeDb, filter: LogFilter, format: ExportFormat): Promise<Blob> {
  const parts: string[] = [];
  let first = true;
  for await (const rows of iterateLog(db, filter)) {
    const records = rows.map(exportRecord);
    if (format === 'jsonl') parts.push(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    else {
      parts.push(Papa.unparse(records, { header: first, newline: '\n', escapeFormulae: true }) + '\n');
      first = false;
    }
  }
  if (format === 'csv' && first) parts.push(Object.keys(exportRecord(EMPTY_ROW)).join(',') + '\n');
  return new Blob(parts, { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
}

const EMPTY_ROW: InferenceLogRow = { ts: 0, model: '', version: 0, source: 'ui', input: {}, output: null, latencyMs: 0, backend: 'cpu' };
