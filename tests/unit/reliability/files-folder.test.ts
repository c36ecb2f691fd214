import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { structuralProcessor, type ImageProcessor } from '../../../src/lib/datasets/image-processor';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { unzipEntries } from '../../../src/lib/datasets/zip';
import { encodePng } from '../../../src/lib/datasets/png';
import type { InputEntry } from '../../../src/lib/datasets/types';
import type { ProgressEvent } from '../../../src/lib/progress';
import { makeDb } from '../factories';
import { entry } from '../datasets/factories';

/**
 * A 20,000-file folder (issue #13, "files"): every valid image is imported, progress keeps coming, and
 * the pipeline holds one chunk of decoded images at a time, never the whole folder.
 */

const COUNT = 20_000;
const CLASSES = ['minor', 'moderate', 'major'];

/** A distinct 2×2 PNG per index (distinct content hashes, so none is a duplicate). */
function tinyPng(i: number): Uint8Array {
  return encodePng({ width: 2, height: 2, channels: 1, data: Uint8Array.from([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 7]) });
}

function folder(): InputEntry[] {
  return Array.from({ length: COUNT }, (_, i) => entry(`photos/${CLASSES[i % 3]}/${String(i).padStart(5, '0')}.png`, tinyPng(i)));
}

/** Counts decodes in flight, and the chunks the pipeline is in, to show memory is bounded by a chunk. */
function meteredProcessor(): ImageProcessor & { peak: number; calls: number } {
  let inFlight = 0;
  const meter = {
    peak: 0,
    calls: 0,
    async process(...args: Parameters<ImageProcessor['process']>) {
      meter.calls++;
      meter.peak = Math.max(meter.peak, ++inFlight);
      try {
        return await structuralProcessor.process(...args);
      } finally {
        inFlight--;
      }
    },
  };
  return meter;
}

describe('a 20,000-file folder', () => {
  it('imports every valid image, reports progress per chunk and decodes at most `concurrency` at once', async () => {
    const db = makeDb();
    const files = [...folder(), entry('photos/minor/broken.png', tinyPng(1).slice(0, 30)), entry('photos/notes.txt', 'not data')];
    const processor = meteredProcessor();
    const events: ProgressEvent[] = [];
    const started = performance.now();
    const { dataset, report } = await importUpload(db, files, { task: 'image-classification', name: 'photos', chunkSize: 256, concurrency: 4 }, { processor, onProgress: (e) => void events.push(e) });
    const seconds = (performance.now() - started) / 1000;
    console.info(`20,000-file import: ${seconds.toFixed(1)} s`);

    expect(dataset.sampleCount).toBe(COUNT);
    expect(await db.samples.where('datasetId').equals(dataset.id).count()).toBe(COUNT);
    expect(Object.fromEntries(report.map((r) => [r.item, r.reason]))).toEqual({
      'photos/minor/broken.png': expect.stringMatching(/corrupt PNG/),
      'photos/notes.txt': expect.stringMatching(/not inside a class folder|unknown label|not an image/),
    });
    expect(processor.calls).toBe(COUNT);
    expect(processor.peak).toBeLessThanOrEqual(4);

    const stored = events.filter((e): e is Extract<ProgressEvent, { kind: 'progress' }> => e.kind === 'progress' && e.label === 'Checking and storing samples');
    expect(stored.length).toBe(Math.ceil((COUNT + 1) / 256));
    expect(stored.map((e) => e.done)).toEqual([...stored.map((e) => e.done)].sort((a, b) => a - b));
    expect(stored.at(-1)).toMatchObject({ done: COUNT + 1, total: COUNT + 1 });
    expect(seconds).toBeLessThan(60);
  }, 120_000);

  it('unpacks a zip of 20,000 files as a stream, every entry with its path and bytes', async () => {
    const zip = zipSync(Object.fromEntries(Array.from({ length: COUNT }, (_, i) => [`z/${CLASSES[i % 3]}/${i}.png`, tinyPng(i)])), { level: 1 });
    const started = performance.now();
    const { entries, skipped } = await unzipEntries(new Blob([zip as BlobPart]), 'z.zip');
    console.info(`unzipping 20,000 files (${(zip.length / 2 ** 20).toFixed(1)} MiB): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(skipped).toEqual([]);
    expect(entries).toHaveLength(COUNT);
    const last = entries.find((e) => e.path === `z/${CLASSES[(COUNT - 1) % 3]}/${COUNT - 1}.png`)!;
    expect(new Uint8Array(await last.file.arrayBuffer())).toEqual(tinyPng(COUNT - 1));
  }, 60_000);
});
