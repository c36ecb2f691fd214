/** Types the ingest worker's API (`IngestApi` in src/lib/workers/types.ts) exchanges with pages. */
import type { DatasetRow } from '$lib/db/types';
import type { ImportOptions, ImportOutcome } from './ingest';
import type { SubsetOptions } from './splits';
import type { InputEntry } from './types';

export type { DatasetRow, ImportOptions, ImportOutcome, InputEntry, SubsetOptions };

/** One import job: the page picks `jobId` (to cancel it), the files (Blobs cross to the worker without copying their bytes) and options. */
export interface ImportRequest {
  jobId: string;
  entries: InputEntry[];
  options: ImportOptions;
}

export interface DemoInstallResult {
  installed: DatasetRow[];
  existing: DatasetRow[];
}
