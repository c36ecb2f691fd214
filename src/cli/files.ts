import { openAsBlob } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { normalizePath, unsafePathReason } from '$lib/datasets/paths';
import { isTableFile, readTable } from '$lib/datasets/tables';
import type { InputEntry } from '$lib/datasets/types';
import { MissingFileError } from './errors';

/** What a path on the command line names, or a `MissingFileError` naming the option. */
async function statOf(path: string, option: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new MissingFileError(`${option} ${path}: ${code === 'ENOENT' ? 'no such file or folder' : `cannot be read (${code ?? String(error)})`}`);
  }
}

/** A file's bytes, or a `MissingFileError` naming the option it came from. */
export async function readInputFile(path: string, option: string): Promise<Uint8Array> {
  const info = await statOf(path, option);
  if (info.isDirectory()) throw new MissingFileError(`${option} ${path}: is a folder; expected a file`);
  return new Uint8Array(await readFile(path));
}

/** A file as a Blob read lazily from disk (big datasets and bundles are never loaded twice). */
export async function fileBlob(path: string, option: string): Promise<Blob> {
  const info = await statOf(path, option);
  if (info.isDirectory()) throw new MissingFileError(`${option} ${path}: is a folder; expected a file`);
  return openAsBlob(path);
}

async function walk(root: string, folder: string, out: InputEntry[]): Promise<void> {
  const children = await readdir(folder, { withFileTypes: true });
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const path = join(folder, child.name);
    if (child.isDirectory()) await walk(root, path, out);
    else if (child.isFile()) out.push({ path: relative(root, path).split(sep).join('/'), file: await openAsBlob(path) });
  }
}

/** A file on disk, or undefined when the path names none (missing, a folder, unreadable). */
async function fileAt(path: string): Promise<Blob | undefined> {
  try {
    return (await stat(path)).isFile() ? await openAsBlob(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A manifest (CSV, TSV, JSON, JSONL) and the files it references, each value that is a safe relative
 * path of a file beside it or below: what the folder upload would hold of them, with the manifest at
 * the root (so `img/1.png` in `pairs/manifest.csv` resolves to `pairs/img/1.png`). Nothing else of its
 * folder is read, so other manifests there are not imported.
 */
async function manifestEntries(absolute: string): Promise<InputEntry[]> {
  const name = basename(absolute);
  const manifest = await openAsBlob(absolute);
  const entries: InputEntry[] = [{ path: name, file: manifest }];
  let table;
  try {
    table = await readTable(name, manifest);
  } catch {
    return entries; // the parser reports what is wrong with it
  }
  const seen = new Set([name]);
  for (const record of table.records) {
    for (const value of Object.values(record.values)) {
      if (typeof value !== 'string' || value.trim() === '' || unsafePathReason(value)) continue;
      const path = normalizePath(value);
      if (seen.has(path)) continue;
      seen.add(path);
      const file = await fileAt(join(dirname(absolute), ...path.split('/')));
      if (file) entries.push({ path, file });
    }
  }
  return entries;
}

/**
 * A dataset path as upload entries, the way the studio's import panel sees a pick: a folder becomes
 * its files under `<folder name>/…` (like a folder picker), a file (CSV, JSONL, zip …) one entry. With
 * `references` (image tasks), a manifest file also brings the files it references from its folder.
 * @example const entries = await uploadEntries('data/cars'); // cars/minor/1.png, …
 * @example const entries = await uploadEntries('coins/manifest.csv', '--data', { references: true }); // manifest.csv, img/1.png, …
 */
export async function uploadEntries(path: string, option = '--data', { references = false } = {}): Promise<InputEntry[]> {
  const info = await statOf(path, option);
  const absolute = resolve(path);
  if (!info.isDirectory()) {
    if (references && isTableFile(absolute)) return manifestEntries(absolute);
    return [{ path: basename(absolute), file: await openAsBlob(absolute) }];
  }
  const entries: InputEntry[] = [];
  await walk(dirname(absolute), absolute, entries);
  if (entries.length === 0) throw new MissingFileError(`${option} ${path}: the folder is empty`);
  return entries;
}

/** A dataset name from its path, as the studio's import panel suggests it: the folder's name, the file's (a zip's without `.zip`). */
export function nameOf(path: string): string {
  return basename(resolve(path)).replace(/\.zip$/i, '') || 'dataset';
}

/** Writes a file, creating its folder. */
export async function writeOutput(path: string, data: Blob | Uint8Array | string): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  await writeFile(path, data instanceof Blob ? new Uint8Array(await data.arrayBuffer()) : data);
}

/** Pretty JSON with a final newline, as every file the CLI writes. */
export const jsonText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
