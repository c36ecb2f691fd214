import { Unzip, UnzipInflate, type UnzipDecoder, type UnzipFile } from 'fflate';
import { formatBytes } from '$lib/bytes';
import { DatasetValidationError, throwIfCancelled } from './errors';
import { extension, isSystemFile, normalizePath, unsafePathReason } from './paths';
import type { InputEntry, SkippedItem } from './types';

/** Limits that keep a hostile or broken zip from exhausting memory. */
export interface ZipLimits {
  /** Largest inflated size of one entry (default 64 MiB). */
  maxEntryBytes: number;
  /** Largest inflated size of all entries together (default 2 GiB). */
  maxTotalBytes: number;
  /** Most entries read (default 200 000). */
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 64 * 2 ** 20, maxTotalBytes: 2 * 2 ** 30, maxEntries: 200_000 };

export interface UnzipResult {
  entries: InputEntry[];
  skipped: SkippedItem[];
}

/**
 * A DEFLATE decoder that can be stopped: fflate's synchronous inflater has no `terminate`, so without
 * this a zip bomb would keep inflating (and burning CPU) after we stopped collecting its output.
 */
class StoppableInflate implements UnzipDecoder {
  static compression = 8;
  #inner = new UnzipInflate();
  #stopped = false;
  ondata: UnzipDecoder['ondata'] = () => {};

  constructor() {
    this.#inner.ondata = (error, data, final) => {
      if (!this.#stopped) this.ondata(error, data, final);
    };
  }

  push(chunk: Uint8Array, final: boolean): void {
    if (!this.#stopped) this.#inner.push(chunk, final);
  }

  terminate(): void {
    this.#stopped = true;
  }
}


/**
 * Unpacks a zip as a stream (it never inflates the whole archive at once), with guards:
 * names that are absolute or contain `..` are skipped (zip-slip); an entry whose inflated size exceeds
 * the size it declares, the per-entry cap or the total cap is cut off and skipped (zip bombs); entries
 * with an unsupported compression method are skipped. Each skip names the entry and the reason.
 * Folders and system files (`__MACOSX/`, dot-files) are ignored. Paths get `prefix/` in front.
 * @example const { entries, skipped } = await unzipEntries(file, 'upload.zip');
 */
export async function unzipEntries(
  zip: Blob,
  zipName: string,
  options: { limits?: Partial<ZipLimits>; prefix?: string; signal?: AbortSignal } = {},
): Promise<UnzipResult> {
  const limits = { ...DEFAULT_ZIP_LIMITS, ...options.limits };
  const entries: InputEntry[] = [];
  const skipped: SkippedItem[] = [];
  let total = 0;
  let count = 0;
  let totalExceeded = false;
  const prefix = options.prefix ? `${normalizePath(options.prefix)}/` : '';
  const label = (name: string) => `${zipName}: ${name}`;

  const unzip = new Unzip((file: UnzipFile) => {
    const name = file.name;
    if (name.endsWith('/')) return; // a folder
    const unsafe = unsafePathReason(name);
    if (unsafe) {
      skipped.push({ item: label(name), reason: `skipped: ${unsafe}` });
      return;
    }
    const path = normalizePath(name);
    if (isSystemFile(path)) return;
    if (++count > limits.maxEntries) {
      if (count === limits.maxEntries + 1) skipped.push({ item: label(name), reason: `the zip has more than ${limits.maxEntries} entries; the rest are skipped` });
      return;
    }
    if (totalExceeded) {
      skipped.push({ item: label(name), reason: `skipped: the zip inflates to more than the ${formatBytes(limits.maxTotalBytes)} cap` });
      return;
    }
    if (file.compression !== 0 && file.compression !== 8) {
      skipped.push({ item: label(name), reason: `unsupported compression method ${file.compression} (expected stored or deflate)` });
      return;
    }
    const declared = file.originalSize;
    if (declared !== undefined && declared > limits.maxEntryBytes) {
      skipped.push({ item: label(name), reason: `declares ${formatBytes(declared)}, more than the ${formatBytes(limits.maxEntryBytes)} per-file cap` });
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    let failed = false;
    const fail = (reason: string) => {
      failed = true;
      chunks.length = 0;
      skipped.push({ item: label(name), reason });
      file.terminate();
    };
    file.ondata = (error, data, final) => {
      if (failed) return;
      if (error) return fail(`corrupt zip entry: ${error.message}`);
      size += data.length;
      total += data.length;
      if (declared !== undefined && size > declared) return fail(`inflates to more than the ${declared} bytes it declares (zip bomb?)`);
      if (size > limits.maxEntryBytes) return fail(`inflates to more than the ${formatBytes(limits.maxEntryBytes)} per-file cap`);
      if (total > limits.maxTotalBytes) {
        totalExceeded = true;
        return fail(`the zip inflates to more than the ${formatBytes(limits.maxTotalBytes)} cap; stopped here`);
      }
      if (data.length) chunks.push(data);
      if (final) {
        if (declared !== undefined && size !== declared) return fail(`inflates to ${size} bytes but declares ${declared} (corrupt zip entry)`);
        entries.push({ path: prefix + path, file: new Blob(chunks as BlobPart[]) });
      }
    };
    file.start();
  });
  unzip.register(StoppableInflate);

  const reader = zip.stream().getReader();
  let readAny = false;
  try {
    for (;;) {
      throwIfCancelled(options.signal);
      const { done, value } = await reader.read();
      if (done) break;
      // Push in small slices: one push inflates at most ~1000× its size.
      for (let i = 0; i < value.length; i += 16_384) unzip.push(value.subarray(i, i + 16_384));
      readAny = true;
    }
    unzip.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof Error && error.name === 'ImportCancelledError') throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (!readAny || (entries.length === 0 && skipped.length === 0)) {
      throw new DatasetValidationError(`${zipName} is not a readable zip archive (${message})`, zipName);
    }
    skipped.push({ item: zipName, reason: `the zip is damaged after ${entries.length} files (${message}); the rest is skipped` });
  } finally {
    reader.releaseLock();
  }
  if (entries.length === 0 && skipped.length === 0 && zip.size > 0 && !(await looksLikeZip(zip))) {
    throw new DatasetValidationError(`${zipName} is not a zip archive (no PK signature)`, zipName);
  }
  return { entries, skipped };
}

async function looksLikeZip(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 4).arrayBuffer());
  return head[0] === 0x50 && head[1] === 0x4b;
}

/**
 * Replaces every `.zip` entry of an upload by its unpacked files (under a folder named after the zip
 * when the upload has other files too). Other entries pass through with normalized paths; unsafe
 * paths are skipped.
 */
export async function expandUpload(
  input: InputEntry[],
  options: { limits?: Partial<ZipLimits>; signal?: AbortSignal; onZip?: (name: string) => void } = {},
): Promise<UnzipResult> {
  const entries: InputEntry[] = [];
  const skipped: SkippedItem[] = [];
  const zips = input.filter((e) => extension(e.path) === 'zip');
  for (const entry of input) {
    const unsafe = unsafePathReason(entry.path);
    if (unsafe) {
      skipped.push({ item: entry.path, reason: `skipped: ${unsafe}` });
      continue;
    }
    const path = normalizePath(entry.path);
    if (isSystemFile(path)) continue;
    if (extension(path) !== 'zip') {
      entries.push({ path, file: entry.file });
      continue;
    }
    options.onZip?.(path);
    const prefix = input.length > 1 || zips.length > 1 ? path.replace(/\.zip$/i, '') : '';
    const result = await unzipEntries(entry.file, path, { limits: options.limits, prefix, signal: options.signal });
    entries.push(...result.entries);
    skipped.push(...result.skipped);
  }
  return { entries, skipped };
}
