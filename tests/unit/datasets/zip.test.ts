import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DatasetValidationError } from '../../../src/lib/datasets/errors';
import { expandUpload, unzipEntries } from '../../../src/lib/datasets/zip';
import { entry, png } from './factories';

const zipBlob = (files: Record<string, Uint8Array>, level: 0 | 6 = 6) => new Blob([zipSync(files, { level }) as BlobPart]);

/** Rewrites the uncompressed size in the local header of entry `index` (what a streaming reader trusts). */
function lieAboutSize(zip: Uint8Array, index: number, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  let seen = 0;
  for (let i = 0; i + 30 < out.length; i++) {
    if (view.getUint32(i, true) === 0x04034b50 && seen++ === index) {
      view.setUint32(i + 22, size, true);
      return out;
    }
  }
  throw new Error(`no entry ${index}`);
}

describe('unzipping uploads', () => {
  it('unpacks files with their paths, ignoring folders and system files', async () => {
    const a = png(4, 4, 1);
    const zip = zipBlob({ 'set/minor/a.png': a, 'set/readme.txt': strToU8('hi'), '__MACOSX/set/._a.png': strToU8('x'), 'set/.DS_Store': strToU8('x') });
    const { entries, skipped } = await unzipEntries(zip, 'up.zip');
    expect(skipped).toEqual([]);
    expect(entries.map((e) => e.path).sort()).toEqual(['set/minor/a.png', 'set/readme.txt']);
    const stored = entries.find((e) => e.path === 'set/minor/a.png')!;
    expect(new Uint8Array(await stored.file.arrayBuffer())).toEqual(a);
  });

  it('skips path-traversal and absolute names with a reason, keeping the rest', async () => {
    const zip = zipBlob({ '../evil.txt': strToU8('x'), '/etc/passwd': strToU8('x'), 'ok/../../up.txt': strToU8('x'), 'C:/win.txt': strToU8('x'), 'good.txt': strToU8('fine') });
    const { entries, skipped } = await unzipEntries(zip, 'up.zip');
    expect(entries.map((e) => e.path)).toEqual(['good.txt']);
    expect(skipped).toHaveLength(4);
    expect(skipped.find((s) => s.item === 'up.zip: ../evil.txt')?.reason).toMatch(/'\.\.'/);
    expect(skipped.find((s) => s.item === 'up.zip: /etc/passwd')?.reason).toMatch(/absolute path/);
    expect(skipped.find((s) => s.item === 'up.zip: C:/win.txt')?.reason).toMatch(/drive letter/);
  });

  it('stops an entry that inflates past the size it declares (zip bomb), keeping the others', async () => {
    const bomb = new Uint8Array(3_000_000); // zeros: deflates ~1000:1
    const files = { 'bomb.bin': bomb, 'small.txt': strToU8('hello world'), 'short.txt': strToU8('hello') };
    const zip = lieAboutSize(lieAboutSize(zipSync(files), 0, 1000), 2, 999);
    const { entries, skipped } = await unzipEntries(new Blob([zip as BlobPart]), 'z.zip');
    expect(entries.map((e) => e.path)).toEqual(['small.txt']);
    expect(await entries[0]!.file.text()).toBe('hello world');
    expect(skipped).toEqual([
      { item: 'z.zip: bomb.bin', reason: expect.stringMatching(/more than the 1000 bytes it declares/) },
      { item: 'z.zip: short.txt', reason: expect.stringMatching(/inflates to 5 bytes but declares 999/) },
    ]);
  });

  it('enforces the per-file and total caps', async () => {
    const big = new Uint8Array(300_000);
    const zip = zipBlob({ 'a.bin': big, 'b.bin': big.slice(0, 200_000), 'c.bin': big.slice(0, 200_000), 'd.bin': strToU8('tiny') });
    const { entries, skipped } = await unzipEntries(zip, 'z.zip', { limits: { maxEntryBytes: 250_000, maxTotalBytes: 350_000 } });
    expect(skipped.find((s) => s.item === 'z.zip: a.bin')?.reason).toMatch(/per-file cap/);
    expect(entries.map((e) => e.path)).toContain('b.bin');
    expect(skipped.find((s) => s.item === 'z.zip: c.bin')?.reason).toMatch(/cap/);
    expect(skipped.find((s) => s.item === 'z.zip: d.bin')?.reason).toMatch(/cap/);
  });

  it('names a file that is not a zip', async () => {
    await expect(unzipEntries(new Blob(['just text, no archive']), 'notes.zip')).rejects.toThrow(DatasetValidationError);
    await expect(unzipEntries(new Blob(['just text, no archive']), 'notes.zip')).rejects.toThrow(/notes\.zip is not a zip/);
  });

  it('expands zips inside an upload and normalises the other paths', async () => {
    const zip = zipSync({ 'minor/a.png': png(2, 2, 1) });
    const { entries, skipped } = await expandUpload([entry('extra.zip', zip), entry('./major\\b.png', png(2, 2, 2)), entry('../x.png', png(2, 2, 3))]);
    expect(entries.map((e) => e.path).sort()).toEqual(['extra/minor/a.png', 'major/b.png']);
    expect(skipped).toEqual([{ item: '../x.png', reason: expect.stringMatching(/'\.\.'/) }]);
    const alone = await expandUpload([entry('only.zip', zip)]);
    expect(alone.entries.map((e) => e.path)).toEqual(['minor/a.png']);
  });
});
