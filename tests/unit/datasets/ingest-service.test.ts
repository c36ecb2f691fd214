import { describe, expect, it } from 'vitest';
import { structuralProcessor, type ImageProcessor } from '../../../src/lib/datasets/image-processor';
import type { ProgressEvent } from '../../../src/lib/progress';
import { IngestService } from '../../../src/lib/workers/ingest-service';
import { makeDb } from '../factories';
import { entry, png } from './factories';

describe('IngestService', () => {
  it('imports through the worker API, reporting progress and then done', async () => {
    const db = makeDb();
    const service = new IngestService({ db: () => db, processor: structuralProcessor });
    const events: ProgressEvent[] = [];
    const outcome = await service.importDataset(
      { jobId: 'j1', entries: [entry('minor/a.png', png(3, 3, 1)), entry('major/b.png', png(3, 3, 2)), entry('major/c.png', 'x')], options: { task: 'image-classification', name: 'cars' } },
      (e) => void events.push(e),
    );
    expect(outcome.dataset.sampleCount).toBe(2);
    expect(outcome.report).toEqual([{ item: 'major/c.png', reason: expect.stringMatching(/not an image/) }]);
    expect(events.some((e) => e.kind === 'progress')).toBe(true);
    expect(events.at(-1)).toEqual({ kind: 'done' });
  });

  it('cancels a running import by job id, storing nothing', async () => {
    const db = makeDb();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow: ImageProcessor = {
      async process(bytes, info, options) {
        started();
        await gate;
        return structuralProcessor.process(bytes, info, options);
      },
    };
    const service = new IngestService({ db: () => db, processor: slow });
    const events: ProgressEvent[] = [];
    const files = Array.from({ length: 10 }, (_, i) => entry(`minor/${i}.png`, png(2, 2, i)));
    const job = service.importDataset({ jobId: 'j2', entries: files, options: { task: 'image-classification', name: 'x', chunkSize: 2 } }, (e) => void events.push(e));
    await running;
    await service.cancel('j2');
    release();
    await expect(job).rejects.toMatchObject({ name: 'ImportCancelledError' });
    expect(events.at(-1)).toEqual({ kind: 'failed', reason: expect.stringMatching(/cancelled/) });
    expect(await db.samples.count()).toBe(0);
    await service.cancel('unknown'); // ignored
  });

  it('rejects a whole-import failure with a named error', async () => {
    const service = new IngestService({ db: () => makeDb(), processor: structuralProcessor });
    const job = service.importDataset({ jobId: 'j3', entries: [entry('m.csv', 'front,back\n')], options: { task: 'coin-year', name: 'c' } }, () => {});
    await expect(job).rejects.toMatchObject({ name: 'DatasetValidationError', message: expect.stringMatching(/no column "year"/) });
  });
});
