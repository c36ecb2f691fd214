import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { structuralProcessor, type ImageProcessor } from '../../../src/lib/datasets/image-processor';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { parseUpload } from '../../../src/lib/datasets/parsers';
import { crc32 } from '../../../src/lib/datasets/png';
import { makeDb } from '../factories';
import { entry, jpeg, png } from '../datasets/factories';

/**
 * Files a user may really drop on the importer (issue #13, "files"): huge images, image bombs, files
 * whose name lies about their content, unicode names from other systems, CSV values out of range.
 * Truncated JPEG/PNG, 0-byte files, zip bombs and path traversal are covered in tests/unit/datasets/.
 */

/** A processor that records which files reached the decoder (a refused file must never get there). */
function recordingProcessor(): ImageProcessor & { seen: number[] } {
  const seen: number[] = [];
  return {
    seen,
    process(bytes, info, options) {
      seen.push(bytes.length);
      return structuralProcessor.process(bytes, info, options);
    },
  };
}

/** A valid PNG whose IHDR declares `width`×`height` (CRC fixed), with the pixel data of a 1×1 image: an image bomb. */
function pngDeclaring(width: number, height: number): Uint8Array {
  const bytes = png(1, 1, 3);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(bytes, 12, 29));
  return bytes;
}

describe('huge images', () => {
  it('skips a 100 MB image at once, naming the file, its size and the limit, and imports the others', async () => {
    const huge = new Blob([jpeg(4000, 3000, 1) as BlobPart, new Uint8Array(100 * 2 ** 20)], { type: 'image/jpeg' });
    // Reading it would be the memory problem: the check must come from its size alone.
    Object.defineProperty(huge, 'arrayBuffer', { value: () => Promise.reject(new Error('the 100 MB image was read')) });
    const processor = recordingProcessor();
    const files = [{ path: 'cars/major/huge.jpg', file: huge }, entry('cars/minor/a.png', png(6, 6, 1)), entry('cars/major/b.png', png(6, 6, 2))];
    const started = performance.now();
    const { dataset, report } = await importUpload(makeDb(), files, { task: 'image-classification', name: 'cars' }, { processor });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(dataset.sampleCount).toBe(2);
    expect(report).toEqual([{ item: 'cars/major/huge.jpg', reason: 'too large: 100 MiB, more than the 64 MiB an image may have; downscale or re-encode it first' }]);
    expect(processor.seen).toHaveLength(2);
  });

  it('refuses an image whose header declares more pixels than the cap before decoding it (image bomb)', async () => {
    const bomb = pngDeclaring(30_000, 30_000); // 900 megapixels: 3.6 GB as RGBA, in a 70-byte file
    expect(bomb.length).toBeLessThan(100);
    const processor = recordingProcessor();
    const files = [entry('cars/minor/bomb.png', bomb), entry('cars/minor/ok.png', png(4, 4, 9))];
    const { dataset, report } = await importUpload(makeDb(), files, { task: 'image-classification', name: 'cars' }, { processor });
    expect(dataset.sampleCount).toBe(1);
    expect(report).toEqual([{ item: 'cars/minor/bomb.png', reason: 'too many pixels: 30000×30000 (900 megapixels), more than the 50 megapixels Loupe decodes; downscale it first' }]);
    expect(processor.seen).toEqual([png(4, 4, 9).length]);
  });

  it('takes the limits as options, so a large but legitimate photo can be let in', async () => {
    const photo = pngDeclaring(9000, 8000); // 72 MP
    const limited = await importUpload(makeDb(), [entry('minor/p.png', photo), entry('minor/q.png', png(2, 2, 1))], { task: 'image-classification', name: 'x' }, { processor: structuralProcessor });
    expect(limited.report[0]?.reason).toMatch(/too many pixels: 9000×8000 \(72 megapixels\)/);
    const raised = await importUpload(makeDb(), [entry('minor/p.png', photo)], { task: 'image-classification', name: 'x', imageLimits: { maxPixels: 80_000_000 } }, { processor: structuralProcessor });
    expect(raised.report).toEqual([]);
    expect(raised.dataset.sampleCount).toBe(1);
  });
});

describe('names that lie about the content', () => {
  it('skips a text file named .jpg as "not an image", and stores a PNG named .jpg by what its bytes are', async () => {
    const db = makeDb();
    const files = [
      entry('cars/minor/photo.jpg', 'GET /index.html HTTP/1.1\nthis is a log, not a photo\n'),
      entry('cars/minor/html.jpg', '<html><script>alert(1)</script></html>'),
      entry('cars/major/really-a-png.jpg', png(5, 4, 7)),
    ];
    const { dataset, report } = await importUpload(db, files, { task: 'image-classification', name: 'cars' }, { processor: structuralProcessor });
    expect(Object.fromEntries(report.map((r) => [r.item, r.reason]))).toEqual({
      'cars/minor/photo.jpg': expect.stringMatching(/^not an image/),
      'cars/minor/html.jpg': expect.stringMatching(/^not an image/),
    });
    const [sample] = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(sample).toMatchObject({ path: 'cars/major/really-a-png.jpg', width: 5, height: 4 });
    expect(sample!.blobs![0]!.type).toBe('image/png');
  });
});

describe('unicode names in zips', () => {
  it('imports unicode folders and files, and matches a manifest typed in NFC against names a Mac zipped in NFD', async () => {
    const nfd = (text: string) => text.normalize('NFD');
    const zip = zipSync({
      [nfd('münzen/pièce_前.png')]: png(6, 6, 1),
      [nfd('münzen/pièce_後.png')]: png(6, 6, 2),
      'münzen/🪙 front.png': png(6, 6, 3),
      'münzen/🪙 back.png': png(6, 6, 4),
      'münzen/manifest.csv': strToU8('front,back,year\npièce_前.png,pièce_後.png,1871\n🪙 front.png,🪙 back.png,1950\n'.normalize('NFC')),
    });
    const db = makeDb();
    const { dataset, report } = await importUpload(db, [entry('münzen.zip', zip)], { task: 'coin-year', name: 'münzen' }, { processor: structuralProcessor });
    expect(report).toEqual([]);
    const samples = await db.samples.where('datasetId').equals(dataset.id).toArray();
    expect(samples.map((s) => [s.label, s.paths]).sort()).toEqual([
      [1871, ['münzen/pièce_前.png', 'münzen/pièce_後.png']],
      [1950, ['münzen/🪙 front.png', 'münzen/🪙 back.png']],
    ]);
  });

  it('gives one class to a folder name whether it came composed or decomposed', async () => {
    const zip = zipSync({
      [`${'légère'.normalize('NFD')}/a.png`]: png(3, 3, 1),
      [`${'légère'.normalize('NFC')}/b.png`]: png(3, 3, 2),
      'grave/c.png': png(3, 3, 3),
    });
    const { dataset } = await importUpload(makeDb(), [entry('classes.zip', zip)], { task: 'image-classification', name: 'u' }, { processor: structuralProcessor });
    expect(dataset.labels).toEqual(['grave', 'légère']);
    expect(dataset.sampleCount).toBe(3);
  });
});

describe('CSV values out of range', () => {
  it('names the row and the value for every year that is not a plausible whole year', async () => {
    const images = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'].map((n, i) => entry(`${n}.png`, png(2, 2, i)));
    const csv = ['front,back,year', 'a.png,b.png,MDCCCLXII', 'c.png,d.png,1862.5', 'e.png,f.png,"1,862"', 'g.png,h.png,', 'i.png,j.png,-1862', 'k.png,l.png,1862'].join('\n');
    const { candidates, skipped } = await parseUpload('coin-year', [entry('coins.csv', csv), ...images]);
    expect(candidates.map((c) => c.label)).toEqual([1862]);
    expect(Object.fromEntries(skipped.map((s) => [s.item, s.reason]))).toEqual({
      'coins.csv row 2': 'year "MDCCCLXII" is not an integer; expected a whole year like 1862',
      'coins.csv row 3': 'year "1862.5" is not an integer; expected a whole year like 1862',
      'coins.csv row 4': 'year "1,862" is not an integer; expected a whole year like 1862',
      'coins.csv row 5': 'year is empty; expected an integer year',
      'coins.csv row 6': expect.stringMatching(/^year -1862 is outside the plausible range 1500…\d{4}$/),
    });
  });

  it('names the row for class indices outside 0…2 when most labels are the preset ones', async () => {
    const valid = Array.from({ length: 6 }, (_, i) => `text ${i},${i % 3}`);
    const csv = ['text,label', ...valid, 'odd,3', 'negative index,-1', 'fraction,1.5', 'huge,99999999999999999999'].join('\n');
    const { candidates, skipped } = await parseUpload('text-classification', [entry('tweets.csv', csv)], 'sentiment');
    expect(candidates.map((c) => c.label)).toEqual(['negative', 'neutral', 'positive', 'negative', 'neutral', 'positive']);
    expect(skipped).toEqual(
      (['3', '-1', '1.5', '99999999999999999999'] as const).map((value, i) => ({
        item: `tweets.csv row ${8 + i}`,
        reason: `unknown label "${value}"; expected one of negative, neutral, positive or 0…2`,
      })),
    );
  });

  it('names the row for a damage class index out of range in a path,label CSV', async () => {
    const csv = 'path,label\na.png,0\nb.png,5\nc.png,major\n';
    const files = ['a', 'b', 'c'].map((n, i) => entry(`${n}.png`, png(2, 2, i)));
    const { candidates, skipped } = await parseUpload('image-classification', [entry('labels.csv', csv), ...files]);
    expect(candidates.map((c) => c.label)).toEqual(['minor', 'major']);
    expect(skipped).toContainEqual({ item: 'labels.csv row 3', reason: 'unknown label "5"; expected one of minor, moderate, major or 0…2' });
  });
});
