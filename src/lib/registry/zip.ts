import { inflateSync } from 'fflate';
import { formatBytes } from '$lib/bytes';
import { InvalidBundleError } from './errors';

/**
 * A defensive zip reader for files users import. It reads the central directory itself (fflate's
 * `unzipSync` keeps only the last of duplicate names and silently cuts entries to their declared size),
 * so it can refuse, before inflating anything: too many entries, unsafe names (traversal, absolute,
 * drive letters, backslashes, control characters), duplicates, overlapping entries, encryption,
 * ZIP64 and multi-disk archives, and declared sizes over the caps. Each entry then inflates into a
 * buffer one byte larger than declared, so a lying header cannot allocate more, and is rejected when
 * its real size differs from the declared one.
 */

export interface ZipLimits {
  /** Largest archive accepted. */
  maxArchiveBytes: number;
  maxEntries: number;
  /** Largest single entry, uncompressed. */
  maxEntryBytes: number;
  /** Largest total of all entries, uncompressed. */
  maxTotalBytes: number;
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  dataStart: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function fail(message: string, file?: string): never {
  throw new InvalidBundleError(message, file);
}

/** Why a zip entry name is unsafe to use as a path, or undefined when it is a plain relative name. */
export function unsafeNameReason(name: string): string | undefined {
  if (name.length === 0) return 'has an empty name';
  if (name.length > 255) return 'has a name longer than 255 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'has control characters in its name';
  if (name.includes('\\')) return 'uses a backslash in its path (path traversal on Windows)';
  if (name.startsWith('/')) return 'has an absolute path (path traversal)';
  if (/^[A-Za-z]:/.test(name)) return 'names a drive letter (path traversal)';
  if (name.split('/').some((part) => part === '..')) return 'climbs out of the bundle with ".." (path traversal)';
  if (name.split('/').some((part) => part === '.' || part === '')) return 'has an empty or "." path segment';
  return undefined;
}

/** Lists and checks a zip's entries from its central directory; nothing is inflated yet. */
export function listZip(bytes: Uint8Array, limits: ZipLimits): ZipEntry[] {
  if (bytes.byteLength > limits.maxArchiveBytes) {
    fail(`the bundle is ${formatBytes(bytes.byteLength)}, more than the ${formatBytes(limits.maxArchiveBytes)} Loupe accepts`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const u16 = (at: number) => view.getUint16(at, true);
  let eocd = -1;
  for (let i = bytes.byteLength - 22; i >= Math.max(0, bytes.byteLength - 22 - 0xffff); i--) {
    if (u32(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('is not a zip file (no end of central directory); export bundles from Loupe’s Registry');
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) fail('is a multi-part zip; Loupe reads single-file bundles');
  const count = u16(eocd + 10);
  const cdSize = u32(eocd + 12);
  const cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) fail('is a ZIP64 archive; model bundles are far smaller than 4 GiB, so this is not one');
  if (count !== u16(eocd + 8)) fail('is a multi-part zip; Loupe reads single-file bundles');
  if (count > limits.maxEntries) fail(`has ${count} entries, more than the ${limits.maxEntries} a model bundle may have`);
  if (cdOffset + cdSize > eocd) fail('has a central directory outside the file (truncated or corrupt)');

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let total = 0;
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || u32(at) !== CENTRAL) fail(`has a corrupt central directory (entry ${i + 1} of ${count})`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const compressedSize = u32(at + 20);
    const size = u32(at + 24);
    const nameLength = u16(at + 28);
    const next = at + 46 + nameLength + u16(at + 30) + u16(at + 32);
    const localOffset = u32(at + 42);
    if (next > eocd) fail(`has a corrupt central directory (entry ${i + 1} of ${count})`);
    let name: string;
    try {
      name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      fail(`entry ${i + 1} has a name that is not valid UTF-8`);
    }
    const unsafe = unsafeNameReason(name);
    // eslint-disable-next-line no-control-regex
    if (unsafe) fail(`entry "${name.replace(/[\u0000-\u001f\u007f]/g, '?')}" ${unsafe}`);
    if (names.has(name)) fail('appears twice in the zip', name);
    names.add(name);
    if (flags & 1) fail('is encrypted; Loupe bundles are not', name);
    if (method !== 0 && method !== 8) fail(`uses compression method ${method}; Loupe reads stored and deflated entries`, name);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) fail('uses ZIP64 sizes', name);
    if (size > limits.maxEntryBytes) fail(`declares ${formatBytes(size)}, more than the ${formatBytes(limits.maxEntryBytes)} a bundle file may have`, name);
    if (method === 0 && compressedSize !== size) fail(`is stored uncompressed but declares ${size} bytes and holds ${compressedSize}`, name);
    total += size;
    if (total > limits.maxTotalBytes) fail(`declares ${formatBytes(total)} or more in all, more than the ${formatBytes(limits.maxTotalBytes)} Loupe accepts`);
    if (localOffset + 30 > cdOffset || u32(localOffset) !== LOCAL) fail('has no local header where the directory says (corrupt zip)', name);
    const localNameLength = u16(localOffset + 26);
    const dataStart = localOffset + 30 + localNameLength + u16(localOffset + 28);
    const localName = bytes.subarray(localOffset + 30, localOffset + 30 + localNameLength);
    if (localNameLength !== nameLength || localName.some((b, k) => b !== bytes[at + 46 + k])) {
      fail('has a different name in its local header than in the directory (a zip confusion trick)', name);
    }
    if (dataStart + compressedSize > cdOffset) fail('runs past the end of the entries (truncated or corrupt zip)', name);
    entries.push({ name, method, compressedSize, size, localOffset, dataStart });
    at = next;
  }
  // Entries that share bytes are how "overlapping" zip bombs multiply a small file.
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1]!;
    if (previous.dataStart + previous.compressedSize > byOffset[i]!.localOffset) fail('overlaps another entry (an overlapping zip bomb)', byOffset[i]!.name);
  }
  return entries;
}

/** Inflates one entry listed by `listZip`, refusing it when its real size is not the declared one. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const raw = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  if (entry.method === 0) return raw;
  let out: Uint8Array;
  try {
    out = inflateSync(raw, { out: new Uint8Array(entry.size + 1) });
  } catch (error) {
    fail(`cannot be inflated (${error instanceof Error ? error.message : String(error)}): the zip is corrupt`, entry.name);
  }
  if (out.byteLength !== entry.size) {
    fail(
      out.byteLength > entry.size
        ? `inflates to more than the ${entry.size} bytes it declares (a zip bomb, or a corrupt zip)`
        : `inflates to ${out.byteLength} bytes but declares ${entry.size} (corrupt zip)`,
      entry.name,
    );
  }
  return out;
}
