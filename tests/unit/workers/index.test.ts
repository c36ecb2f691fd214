import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkerCrashedError } from '../../../src/lib/workers/client';
import { onWorkerCrash, workers } from '../../../src/lib/workers';

/** Stands in for the browser's Worker: the client only listens to it and terminates it. */
class SilentWorker extends EventTarget {
  postMessage() {}
  terminate() {}
}

describe('the page workers', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('tell crash listeners when a worker dies, until they unsubscribe', () => {
    vi.stubGlobal('Worker', SilentWorker);
    const crashes: WorkerCrashedError[] = [];
    const unsubscribe = onWorkerCrash((error) => crashes.push(error));
    workers().trainer.api();
    workers().trainer.terminate('simulated crash');
    expect(crashes.map((e) => e.message)).toEqual([expect.stringMatching(/The trainer worker stopped unexpectedly: simulated crash/)]);
    unsubscribe();
    workers().ingest.api();
    workers().ingest.terminate('again');
    expect(crashes).toHaveLength(1);
  });
});
