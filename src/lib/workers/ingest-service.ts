import { sha256Hex } from '$lib/hash';
import { APP_VERSION } from '$lib/version';
import type { HashedBytes, IngestApi, WorkerHello } from './types';

/** The ingest worker's implementation; `workers/ingest.ts` exposes it with comlink. */
export class IngestService implements IngestApi {
  async hello(): Promise<WorkerHello> {
    return { worker: 'ingest', appVersion: APP_VERSION };
  }

  async hashBytes(buffer: ArrayBuffer): Promise<HashedBytes> {
    return { hash: await sha256Hex(buffer), bytes: buffer.byteLength };
  }
}
