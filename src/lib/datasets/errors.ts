/**
 * A whole import cannot go on (a manifest misses a required column, nothing valid is left, the upload
 * does not match the chosen task). The message names the file and the field and says what was expected.
 * Items that are merely invalid are skipped with a reason instead (see `SkippedItem`).
 */
export class DatasetValidationError extends Error {
  override name = 'DatasetValidationError';
  constructor(
    message: string,
    /** The file the problem is in, when there is one. */
    readonly file?: string,
    /** The column or field the problem is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The import was cancelled; nothing of it was stored. */
export class ImportCancelledError extends Error {
  override name = 'ImportCancelledError';
  constructor(message = 'The import was cancelled; nothing was stored.') {
    super(message);
  }
}

/** Throws `ImportCancelledError` once `signal` is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImportCancelledError();
}
