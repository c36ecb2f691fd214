import type { Split } from '$lib/db/types';

/**
 * Why a path from an upload may not be used, or undefined when it is safe: absolute paths, drive
 * letters and `..` segments could name files outside the upload (zip-slip), so they are refused.
 */
export function unsafePathReason(raw: string): string | undefined {
  const path = raw.replace(/\\/g, '/');
  if (path.startsWith('/')) return 'absolute path (must be relative to the upload)';
  if (/^[a-zA-Z]:/.test(path)) return 'absolute path with a drive letter (must be relative to the upload)';
  if (path.split('/').some((segment) => segment === '..')) return "path contains '..' (must stay inside the upload)";
  if (path.includes('\0')) return 'path contains a NUL character';
  return undefined;
}

/**
 * `a\\b/./c` → `a/b/c`; leading `./` and duplicate slashes dropped, and Unicode composed (NFC): macOS
 * writes names decomposed (`e` + combining accent) where a typed manifest has them composed, and the
 * two must name the same file and the same class folder. Call only on safe paths.
 */
export function normalizePath(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function extension(path: string): string {
  const name = basename(path);
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i + 1).toLowerCase();
}

/** Files that are never data: macOS resource forks, Finder and Explorer metadata, hidden files. */
export function isSystemFile(path: string): boolean {
  const segments = path.split('/');
  return segments.some((s) => s === '__MACOSX' || s.startsWith('.')) || /^(thumbs\.db|desktop\.ini)$/i.test(basename(path));
}

const SPLIT_NAMES: Record<string, Split> = {
  train: 'train',
  training: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  dev: 'val',
  test: 'test',
  testing: 'test',
};

/** A split named by a word: `train`, `validation`, `dev`, `test` … (case-insensitive). */
export function splitFromWord(word: string): Split | undefined {
  return SPLIT_NAMES[word.trim().toLowerCase()];
}

/** The split a path's folders or file name name, e.g. `data/val/minor/1.jpg` → val, `train_text.txt` → train. */
export function splitFromPath(path: string): Split | undefined {
  for (const segment of path.split('/').slice(0, -1)) {
    const split = splitFromWord(segment);
    if (split) return split;
  }
  const stem = basename(path).replace(/\.[^.]*$/, '');
  for (const token of stem.split(/[_\-.\s]+/)) {
    const split = splitFromWord(token);
    if (split) return split;
  }
  return undefined;
}

/**
 * Finds the entry a manifest refers to: relative to the manifest's folder first, then to the upload's
 * root, then (when the upload was a folder or zip with one top folder) below that folder.
 */
export class PathIndex<T extends { path: string }> {
  #byPath = new Map<string, T>();
  #byLower = new Map<string, T>();

  constructor(entries: Iterable<T>) {
    for (const entry of entries) {
      this.#byPath.set(entry.path, entry);
      this.#byLower.set(entry.path.toLowerCase(), entry);
    }
  }

  resolve(reference: string, manifestPath: string): T | undefined {
    if (unsafePathReason(reference)) return undefined;
    const ref = normalizePath(reference);
    const base = dirname(manifestPath);
    const candidates = [base ? `${base}/${ref}` : ref, ref];
    const top = manifestPath.split('/')[0];
    if (top && top !== manifestPath) candidates.push(`${top}/${ref}`);
    for (const candidate of candidates) {
      const hit = this.#byPath.get(candidate) ?? this.#byLower.get(candidate.toLowerCase());
      if (hit) return hit;
    }
    return undefined;
  }
}
