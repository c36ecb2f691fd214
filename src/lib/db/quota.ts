/**
 * Storage-full errors. Browsers refuse an IndexedDB write that would take the origin past its quota
 * with a `QuotaExceededError` DOMException, which reaches callers in several wrappings: Dexie maps it to
 * its own `QuotaExceededError` (request failures), wraps it as the `inner` of an `AbortError` (the
 * usual case: Chromium aborts the transaction at commit), or lists it among a `BulkError`'s failures.
 * The writers that can fill storage (imports, checkpoints, the inference log) turn all of these into
 * one `StorageFullError` that says what was not saved and what the user can do.
 */

/** What the user can do about it; shown after every storage-full message. */
export const STORAGE_FULL_ADVICE =
  'Nothing was half-written and the data saved earlier is intact. Free space by deleting old runs, dataset versions or models ' +
  '(export them first from Settings → Your data if you want to keep them), shorten the inference log\'s retention, ' +
  'or let the browser give this site more storage';

/** The browser refused to store something because this site's storage quota is used up. */
export class StorageFullError extends Error {
  override name = 'StorageFullError';
  constructor(
    /** What was not saved, e.g. `the checkpoint of epoch 3`. */
    readonly what: string,
    options?: { cause?: unknown; /** What happens once there is space (default "then try again"). */ then?: string },
  ) {
    super(`Storage is full: ${what} could not be saved. ${STORAGE_FULL_ADVICE}; ${options?.then ?? 'then try again'}.`, options);
  }
}

const QUOTA_NAMES = new Set(['QuotaExceededError', 'StorageFullError', 'NS_ERROR_DOM_QUOTA_REACHED', 'NS_ERROR_FILE_NO_DEVICE_SPACE']);
/** `DOMException.QUOTA_EXCEEDED_ERR`: the legacy code, still set on the exception. */
const QUOTA_CODE = 22;

/**
 * Whether `error` is (or wraps) the browser's refusal to store more: the DOMException itself, Dexie's
 * `QuotaExceededError`, an `AbortError` whose `inner` is one, a `BulkError` with one among its
 * failures, an error whose `cause` is one, or a `StorageFullError` (also after crossing a worker
 * boundary, where only the name survives).
 * @example if (isQuotaError(error)) throw new StorageFullError('the dataset', { cause: error });
 */
export function isQuotaError(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; inner?: unknown; cause?: unknown; failures?: unknown };
  if (typeof e.name === 'string' && QUOTA_NAMES.has(e.name)) return true;
  if (typeof DOMException !== 'undefined' && error instanceof DOMException && e.code === QUOTA_CODE) return true;
  if (isQuotaError(e.inner, depth + 1) || isQuotaError(e.cause, depth + 1)) return true;
  return Array.isArray(e.failures) && e.failures.some((failure) => isQuotaError(failure, depth + 1));
}

/** `error` as a `StorageFullError` naming `what` when it is a quota error; otherwise `error` unchanged. */
export function asStorageFull(error: unknown, what: string): unknown {
  if (error instanceof StorageFullError) return error;
  return isQuotaError(error) ? new StorageFullError(what, { cause: error }) : error;
}

/**
 * Runs a write; a quota error becomes a `StorageFullError` naming what was not saved.
 * @example await guardQuota('the checkpoint of epoch 2', () => db.checkpoints.put(row));
 */
export async function guardQuota<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw asStorageFull(error, what);
  }
}
