import * as Comlink from 'comlink';
import type { TrialHooks, TrialRunner } from '$lib/sweeps/controller';
import { workers } from './index';
import type { SweepTrialRequest } from './types';

/**
 * Trains trials in the page's trainer worker on `backendChoice`; hooks cross with `Comlink.proxy` (the
 * worker releases them when the trial ends).
 */
export function workerTrialRunner(backendChoice: string): TrialRunner {
  const trainer = () => workers().trainer.api();
  const call = (request: SweepTrialRequest, hooks: TrialHooks) =>
    trainer().sweepTrial(
      request,
      backendChoice,
      Comlink.proxy(hooks.onProgress ?? (() => {})),
      Comlink.proxy(hooks.onRunCreated),
      Comlink.proxy(hooks.shouldStop),
    );
  return {
    start: (spec, sweepId, hooks) => call({ kind: 'start', spec, sweepId }, hooks),
    resume: (runId, hooks) => call({ kind: 'resume', runId }, hooks),
    cancel: (runId) => trainer().cancel(runId),
  };
}
