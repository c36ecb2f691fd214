import Papa from 'papaparse';
import type { Prediction } from './types';

/** Batch prediction inputs from files: image folders, coin pairs, text CSVs; and the results as CSV. */

const IMAGE_EXTENSION = /\.(png|jpe?g|webp|gif)$/i;

export const isImagePath = (path: string) => IMAGE_EXTENSION.test(path);

export interface CoinPair<F> {
  /** The coin's name: the file stem without its side (`coin12` for `coin12_front.jpg`). */
  id: string;
  front: F;
  back: F;
}

const SIDE_IN_NAME = /^(.*?)[\s._-]*(front|obverse|back|reverse)$/i;
const FRONT = new Set(['front', 'obverse']);
const SIDES = new Set(['front', 'obverse', 'back', 'reverse']);

/**
 * Pairs the two sides of each coin in a folder: `coin12_front.jpg` + `coin12_back.jpg` (also `-`, `.`
 * or a space before the side; `obverse`/`reverse` too), or `front/coin12.jpg` + `back/coin12.jpg`.
 * Images that find no partner are returned as `unpaired`.
 * @example pairCoinFiles(files, (f) => f.webkitRelativePath || f.name)
 */
export function pairCoinFiles<F>(files: readonly F[], pathOf: (file: F) => string): { pairs: CoinPair<F>[]; unpaired: string[] } {
  const sides = new Map<string, { front?: F; back?: F; paths: string[] }>();
  const unpaired: string[] = [];
  for (const file of files) {
    const path = pathOf(file);
    if (!isImagePath(path)) continue;
    const parts = path.split('/');
    const name = parts.pop()!.replace(IMAGE_EXTENSION, '');
    const folder = parts.at(-1)?.toLowerCase() ?? '';
    let id: string | undefined;
    let side: string | undefined;
    const match = SIDE_IN_NAME.exec(name);
    if (match && match[1]) {
      id = [...parts, match[1]].join('/');
      side = match[2]!.toLowerCase();
    } else if (SIDES.has(folder)) {
      id = [...parts.slice(0, -1), name].join('/');
      side = folder;
    }
    if (!id || !side) {
      unpaired.push(path);
      continue;
    }
    const entry = sides.get(id) ?? { paths: [] };
    const key = FRONT.has(side) ? 'front' : 'back';
    if (entry[key] !== undefined) unpaired.push(path);
    else entry[key] = file;
    entry.paths.push(path);
    sides.set(id, entry);
  }
  const pairs: CoinPair<F>[] = [];
  for (const [id, entry] of sides) {
    if (entry.front !== undefined && entry.back !== undefined) pairs.push({ id, front: entry.front, back: entry.back });
    else unpaired.push(...entry.paths);
  }
  pairs.sort((a, b) => a.id.localeCompare(b.id));
  return { pairs, unpaired: [...new Set(unpaired)] };
}

export class BatchInputError extends Error {
  override name = 'BatchInputError';
}

/**
 * The texts of a CSV (or TSV) with a header row: the `text` column (also `tweet`, `sentence`,
 * `review`), or the only column. Empty cells are skipped and reported by row number.
 */
export function parseTextCsv(content: string): { column: string; texts: { row: number; text: string }[]; skipped: number[] } {
  const parsed = Papa.parse<Record<string, string>>(content.replace(/^\uFEFF/, ''), { header: true, skipEmptyLines: 'greedy' });
  const columns = parsed.meta.fields ?? [];
  const column =
    columns.find((c) => ['text', 'tweet', 'sentence', 'review'].includes(c.trim().toLowerCase())) ?? (columns.length === 1 ? columns[0] : undefined);
  if (column === undefined) {
    throw new BatchInputError(`the CSV needs a "text" column; its columns are ${columns.length ? columns.map((c) => `"${c}"`).join(', ') : 'none'}`);
  }
  const texts: { row: number; text: string }[] = [];
  const skipped: number[] = [];
  parsed.data.forEach((record, i) => {
    const text = record[column]?.trim() ?? '';
    // Row numbers as a spreadsheet shows them: the header is row 1.
    if (text) texts.push({ row: i + 2, text });
    else skipped.push(i + 2);
  });
  return { column, texts, skipped };
}

export interface BatchResultRow {
  item: string;
  prediction?: Prediction;
  version?: number;
  error?: string;
}

/** Batch results as CSV: item, prediction, score, version, one probability column per label, error. */
export function batchResultsCsv(rows: readonly BatchResultRow[], labels?: readonly string[]): string {
  const records = rows.map(({ item, prediction, version, error }) => {
    const record: Record<string, string | number> = {
      item,
      prediction: prediction ? (prediction.kind === 'regression' ? prediction.value : prediction.label) : '',
      score: prediction?.kind === 'classification' ? prediction.score : '',
      version: version ?? '',
    };
    for (const [i, label] of (labels ?? []).entries()) {
      record[`p_${label}`] = prediction?.kind === 'classification' ? (prediction.probabilities[i] ?? '') : '';
    }
    record.error = error ?? '';
    return record;
  });
  return Papa.unparse(records, { newline: '\n', escapeFormulae: true }) + '\n';
}

export interface ChunkOutcome<T, R> {
  item: T;
  result?: R;
  error?: string;
}

/**
 * Predicts many items a chunk at a time (one model call per chunk). A chunk that fails is retried item
 * by item, so one unreadable file costs its own row, not its neighbours'. Stops between chunks when
 * `signal` aborts.
 * @example await predictInChunks(files, 16, (chunk) => sdk.predictBatch('my-classifier', chunk.map(toInput)).then((r) => r.predictions))
 */
export async function predictInChunks<T, R>(
  items: readonly T[],
  chunkSize: number,
  predict: (chunk: T[]) => Promise<R[]>,
  options: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<ChunkOutcome<T, R>[]> {
  const outcomes: ChunkOutcome<T, R>[] = [];
  const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
  for (let start = 0; start < items.length; start += chunkSize) {
    if (options.signal?.aborted) break;
    const chunk = items.slice(start, start + chunkSize);
    try {
      const results = await predict(chunk);
      chunk.forEach((item, i) => outcomes.push({ item, result: results[i] }));
    } catch (error) {
      if (chunk.length === 1) outcomes.push({ item: chunk[0]!, error: message(error) });
      else {
        for (const item of chunk) {
          try {
            outcomes.push({ item, result: (await predict([item]))[0] });
          } catch (single) {
            outcomes.push({ item, error: message(single) });
          }
        }
      }
    }
    options.onProgress?.(outcomes.length, items.length);
  }
  return outcomes;
}
