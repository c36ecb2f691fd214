/**
 * Hyper-parameter sweeps on this device, defined in Weights & Biases' sweep schema (grid, random,
 * bayes; hyperband early termination). See docs/sweeps.md.
 * @example
 * const result = await runSweep(db, yamlText, { datasetId, runner: workerTrialRunner(backendChoice) });
 * if (result.bestRunId) await registerBest(db, result.sweepId, { name: 'sentiment', trigger: 'pipeline' });
 */
export { validateSweep, parseSweepText, SweepDefinitionError } from './definition';
export type { SweepDefinition, ParameterSpec, SweepTrial, SweepRegistration, Hyperband, ParamValue } from './definition';
export { createSweep, continueSweep, runSweep, bestTrial, summarize, sweepLockName, SweepError } from './controller';
export type { SweepContext, SweepEvent, SweepResult, TrialRunner, TrialHooks } from './controller';
export { inProcessRunner } from './runners';
export { registerBest } from './register';
export type { RegisterBestOptions, RegisterBestResult } from './register';
export { plannedTrials, proposeTrial } from './search';
export { formatDefinition } from './examples';
