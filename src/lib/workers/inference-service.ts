import { probeAllBackends, useBackend } from '$lib/backends/tfjs';
import { APP_VERSION } from '$lib/version';
import type { InferenceApi, WorkerHello } from './types';

/** The inference worker's implementation; `workers/inference.ts` exposes it with comlink. */
export class InferenceService implements InferenceApi {
  #choice = 'auto';

  async hello(): Promise<WorkerHello> {
    return { worker: 'inference', appVersion: APP_VERSION };
  }

  useBackend(choice: string) {
    this.#choice = choice;
    return useBackend(choice);
  }

  probeBackends() {
    return probeAllBackends(this.#choice);
  }
}
