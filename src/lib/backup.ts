import { Zip, ZipDeflate, ZipPassThrough, strToU8 } from 'fflate';
import type { LoupeDb } from '$lib/db/db';
import { LATEST_SCHEMA_VERSION } from '$lib/db/schema';
import { APP_VERSION } from '$lib/version';

export const BACKUP_FORMAT = 'loupe-backup';

/** Stands in for a Blob inside the JSON of a backup: the bytes live in their own zip entry. */
export interface BlobRef {
  $blob: string;
  type: string;
}

/** Cache Storage names Loupe owns for user data (model weights fetched at run time); never the app shell. */
export const USER_CACHE_PREFIX = 'loupe-';

const PAGE_SIZE = 200;

/**
 * Everything the user owns, as one zip: `backup.json` (format, versions, and every table's rows with
 * blobs replaced by `BlobRef`s) plus one entry per blob under `blobs/`. Tables are read a page at a
 * time so a big database is never loaded whole.
 * @example const file = await exportEverything(getDb()); // a Blob to download
 */
export async function exportEverything(db: LoupeDb): Promise<Blob> {
  const chunks: Uint8Array[] = [];
  let failure: Error | undefined;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else chunks.push(chunk);
  });
  let blobCount = 0;
  const addBlob = async (blob: Blob): Promise<BlobRef> => {
    const path = `blobs/${blobCount++}`;
    // Images and weight shards barely compress; storing them keeps export fast.
    const entry = new ZipPassThrough(path);
    zip.add(entry);
    entry.push(new Uint8Array(await blob.arrayBuffer()), true);
    return { $blob: path, type: blob.type };
  };

  const tables: Record<string, unknown[]> = {};
  for (const table of db.tables) {
    const rows: unknown[] = [];
    for (let offset = 0; ; offset += PAGE_SIZE) {
      const page = await table.toCollection().offset(offset).limit(PAGE_SIZE).toArray();
      for (const row of page) rows.push(await replaceBlobs(row, addBlob));
      if (page.length < PAGE_SIZE) break;
    }
    tables[table.name] = rows;
  }
  const manifest = {
    format: BACKUP_FORMAT,
    appVersion: APP_VERSION,
    schemaVersion: LATEST_SCHEMA_VERSION,
    exportedAt: new Date().toISOString(),
    tables,
  };
  const json = new ZipDeflate('backup.json', { level: 6 });
  zip.add(json);
  json.push(strToU8(JSON.stringify(manifest)), true);
  zip.end();
  if (failure) throw failure;
  return new Blob(chunks as BlobPart[], { type: 'application/zip' });
}

/** Deep-copies a row, replacing every Blob with what `onBlob` returns for it. */
async function replaceBlobs(value: unknown, onBlob: (blob: Blob) => Promise<BlobRef>): Promise<unknown> {
  if (value instanceof Blob) return onBlob(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await replaceBlobs(item, onBlob));
    return out;
  }
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await replaceBlobs(item, onBlob);
    return out;
  }
  return value;
}

/**
 * Deletes every table's data and Loupe's runtime caches (downloaded model weights). The app itself
 * stays installed; the database is recreated empty at the current schema.
 */
export async function eraseEverything(db: LoupeDb, caches: CacheStorage | undefined = globalThis.caches): Promise<void> {
  await db.transaction('rw', db.tables, async () => {
    await Promise.all(db.tables.map((table) => table.clear()));
  });
  if (caches) {
    for (const name of await caches.keys()) if (name.startsWith(USER_CACHE_PREFIX)) await caches.delete(name);
  }
}
