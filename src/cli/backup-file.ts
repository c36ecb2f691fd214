import { strFromU8, unzipSync } from 'fflate';
import { BACKUP_FORMAT, type BlobRef } from '$lib/backup';
import type { LoupeDb } from '$lib/db/db';
import { LATEST_SCHEMA_VERSION } from '$lib/db/schema';
import { BadFormatError } from './errors';

/** A studio backup ("Export everything" on the Settings page) as read from disk. */
export interface BackupFile {
  path: string;
  schemaVersion: number;
  appVersion?: string;
  /** Every table's rows, blobs still as `BlobRef`s. */
  tables: Record<string, unknown[]>;
  /** The zip's entries by name (`backup.json`, `blobs/0`, …). */
  files: Record<string, Uint8Array>;
}

/**
 * Opens a backup zip and checks its manifest: the format, a schema this Loupe can read, and a table map.
 * @example const backup = parseBackup(bytes, 'loupe-backup.zip');
 */
export function parseBackup(bytes: Uint8Array, path: string): BackupFile {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new BadFormatError(`${path} is not a zip archive (${(error as Error).message}); expected a studio backup from Settings → Export everything`);
  }
  const json = files['backup.json'];
  if (!json) throw new BadFormatError(`${path} has no backup.json: it is not a studio backup (Settings → Export everything)`);
  let manifest: { format?: unknown; schemaVersion?: unknown; appVersion?: unknown; tables?: unknown };
  try {
    manifest = JSON.parse(strFromU8(json)) as typeof manifest;
  } catch (error) {
    throw new BadFormatError(`${path}: backup.json is not valid JSON (${(error as Error).message})`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BadFormatError(`${path}: backup.json format is ${JSON.stringify(manifest.format)}, expected "${BACKUP_FORMAT}"`);
  if (typeof manifest.schemaVersion !== 'number' || manifest.schemaVersion > LATEST_SCHEMA_VERSION) {
    throw new BadFormatError(`${path}: backup.json schemaVersion ${String(manifest.schemaVersion)} is newer than this Loupe reads (${LATEST_SCHEMA_VERSION}); update Loupe`);
  }
  const tables = manifest.tables;
  if (!tables || typeof tables !== 'object' || Object.values(tables).some((rows) => !Array.isArray(rows))) {
    throw new BadFormatError(`${path}: backup.json "tables" must map every table name to its rows`);
  }
  return { path, schemaVersion: manifest.schemaVersion, appVersion: typeof manifest.appVersion === 'string' ? manifest.appVersion : undefined, tables: tables as Record<string, unknown[]>, files };
}

const isBlobRef = (value: unknown): value is BlobRef =>
  typeof value === 'object' && value !== null && typeof (value as BlobRef).$blob === 'string' && typeof (value as BlobRef).type === 'string' && Object.keys(value).length === 2;

/** A backup row with its `BlobRef`s turned back into Blobs (the inverse of `exportEverything`'s replacement). */
export function withBlobs(value: unknown, backup: BackupFile, where: string): unknown {
  if (isBlobRef(value)) {
    const bytes = backup.files[value.$blob];
    if (!bytes) throw new BadFormatError(`${backup.path}: ${where} refers to ${value.$blob}, which the backup lacks`);
    return new Blob([bytes as BlobPart], { type: value.type });
  }
  if (Array.isArray(value)) return value.map((item, i) => withBlobs(item, backup, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withBlobs(item, backup, `${where}.${key}`)]));
  }
  return value;
}

/** Writes every row of a backup into an empty database (tables this schema lacks are refused). */
export async function restoreBackup(db: LoupeDb, backup: BackupFile): Promise<void> {
  const names = new Set(db.tables.map((t) => t.name));
  for (const name of Object.keys(backup.tables)) {
    if (!names.has(name)) throw new BadFormatError(`${backup.path}: backup.json has a table "${name}" this Loupe does not know`);
  }
  for (const [name, rows] of Object.entries(backup.tables)) {
    if (rows.length === 0) continue;
    await db.table(name).bulkAdd(rows.map((row, i) => withBlobs(row, backup, `${name}[${i}]`)));
  }
}
