import type { InputEntry } from './types';

/**
 * Turning what a user picks or drops into upload entries (browser only). Paths keep the folder
 * structure: `webkitRelativePath` for folder pickers, the entry tree for dropped folders.
 */

/** Files from an `<input type="file">` (with or without `webkitdirectory`). */
export function entriesFromFiles(files: Iterable<File>): InputEntry[] {
  return [...files].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most ~100 entries per call: keep calling until it returns none.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: InputEntry[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
  }
}

/**
 * Files (and whole folders) dropped on the page. The entries must be taken from the DataTransfer
 * synchronously, inside the drop handler: it is emptied once the handler returns.
 */
export function entriesFromDrop(transfer: DataTransfer): Promise<InputEntry[]> {
  const roots = [...transfer.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.() ?? null);
  const files = [...transfer.files];
  return (async () => {
    if (roots.length === 0 || roots.some((r) => r === null)) return entriesFromFiles(files);
    const out: InputEntry[] = [];
    for (const root of roots) await walk(root!, out);
    return out;
  })();
}
