import { describe, expect, it } from 'vitest';
import type { ImportOutcome } from '../../../src/lib/datasets/api';
import { ImportCancelledError } from '../../../src/lib/datasets/errors';
import { ImportSession } from '../../../src/lib/datasets/import-session.svelte';
import type { ProgressCallback } from '../../../src/lib/progress';

/** An ingest worker the test drives: each job waits until the test ends it. */
function fakeWorker() {
  let progress!: ProgressCallback;
  let finish!: (outcome: unknown) => void;
  let fail!: (error: unknown) => void;
  const cancelled: string[] = [];
  const job = (onProgress: ProgressCallback) =>
    new Promise<never>((resolve, reject) => {
      progress = onProgress;
      finish = resolve as (outcome: unknown) => void;
      fail = reject;
    });
  const api = {
    importDataset: (_request: unknown, onProgress: ProgressCallback) => job(onProgress),
    installDemoData: (_jobId: string, onProgress: ProgressCallback) => job(onProgress),
    cancel: async (jobId: string) => void cancelled.push(jobId),
  };
  // The session sees comlink's remote of the worker; these plain functions answer the same calls.
  const remote = (() => api) as unknown as ConstructorParameters<typeof ImportSession>[0];
  return { api: remote, progress: (...args: Parameters<ProgressCallback>) => progress(...args), finish: (o: unknown) => finish(o), fail: (e: unknown) => fail(e), cancelled };
}

const outcome = { report: [{ item: 'cars/minor/crc.png', reason: 'corrupt PNG: CRC mismatch' }], dataset: { id: 'ds', name: 'cars' } } as unknown as ImportOutcome;

describe('ImportSession', () => {
  it('shows an import running with its counts and notes, then its outcome and skipped items', async () => {
    const worker = fakeWorker();
    const session = new ImportSession(worker.api);
    const running = session.importFiles([], { task: 'image-classification', name: 'cars' });
    expect(session).toMatchObject({ state: 'running', busy: true, title: 'cars', label: 'Starting' });
    worker.progress({ kind: 'progress', label: 'Checking and storing samples', done: 4, total: 15 });
    worker.progress({ kind: 'log', level: 'info', message: 'found 15 images' });
    expect(session).toMatchObject({ label: 'Checking and storing samples', done: 4, total: 15, note: 'found 15 images' });
    worker.finish(outcome);
    await running;
    expect(session).toMatchObject({ state: 'done', busy: false });
    expect(session.outcome).toBe(outcome);
    expect(session.report).toEqual(outcome.report);
  });

  it('refuses a second job while one runs, and cancels the running one', async () => {
    const worker = fakeWorker();
    const session = new ImportSession(worker.api);
    const running = session.installDemo();
    await expect(session.importFiles([], { task: 'text-classification', name: 'x' })).rejects.toThrow(/already running/);
    await session.cancel();
    expect(worker.cancelled).toHaveLength(1);
    // The worker's error crosses by name only.
    worker.fail(Object.assign(new Error(new ImportCancelledError().message), { name: 'ImportCancelledError' }));
    await running;
    expect(session).toMatchObject({ state: 'cancelled', title: 'demo data', error: { name: 'ImportCancelledError' } });
  });

  it('shows a failure with its name and message, and goes back to the form on reset', async () => {
    const worker = fakeWorker();
    const session = new ImportSession(worker.api);
    const running = session.importFiles([], { task: 'coin-year', name: 'coins' });
    worker.fail(Object.assign(new Error('no image pairs found'), { name: 'DatasetValidationError' }));
    await running;
    expect(session).toMatchObject({ state: 'failed', error: { name: 'DatasetValidationError', message: 'no image pairs found' } });
    session.reset();
    expect(session).toMatchObject({ state: 'idle', title: '', error: undefined, report: [] });
  });
});
