import type { TaskName } from './specs';

/**
 * Persisted shapes of hyper-parameter sweeps (`sweeps.definition`, `sweeps.trials`,
 * `sweeps.registered`). Defined here, at the bottom; `$lib/sweeps/definition` re-exports them beside
 * the validator.
 */

/** A parameter's value as a sweep definition writes it (plain JSON). */
export type ParamValue = string | number | boolean | null | ParamValue[];

/**
 * A sweep definition in Weights & Biases' sweep schema (docs.wandb.ai "Define a sweep configuration"),
 * plus `task` (which built-in task to train) and `seed` (of the search itself). Keys keep W&B's
 * snake_case so a definition reads the same in both places.
 */
export interface SweepDefinition {
  name?: string;
  description?: string;
  task: TaskName;
  method: SearchMethod;
  metric: { name: string; goal: 'minimize' | 'maximize' };
  /** Each training setting the sweep fixes or searches, by name (see `settingsFor`). */
  parameters: Record<string, ParameterSpec>;
  early_terminate?: Hyperband;
  /** How many trials at most (W&B's `run_cap`); required for random and bayes. */
  run_cap?: number;
  /** Seed of the search (random draws, TPE); same seed ⇒ same trials. */
  seed: number;
}

export type SearchMethod = 'grid' | 'random' | 'bayes';

/**
 * One parameter, normalised: W&B infers the distribution when it is left out (`value` → constant,
 * `values` → categorical, integer min/max → int_uniform, otherwise uniform). Like W&B, `log_uniform`
 * takes natural-log bounds (e^min … e^max); `log_uniform_values` takes the values themselves.
 */
export type ParameterSpec =
  | { distribution: 'constant'; value: ParamValue }
  | { distribution: 'categorical'; values: ParamValue[] }
  | { distribution: 'uniform' | 'int_uniform' | 'log_uniform' | 'log_uniform_values'; min: number; max: number }
  | { distribution: 'q_uniform' | 'q_log_uniform_values'; min: number; max: number; q: number };

/** W&B's hyperband early termination: `min_iter` (with `eta`) or `max_iter` with `s`. Iterations are epochs. */
export interface Hyperband {
  type: 'hyperband';
  min_iter?: number;
  max_iter?: number;
  s?: number;
  eta: number;
}

export type TrialStatus = 'queued' | 'running' | 'completed' | 'stopped' | 'failed' | 'cancelled';

/** One trial of a sweep: its parameter values and the run that trains them. */
export interface SweepTrial {
  index: number;
  params: Record<string, ParamValue>;
  status: TrialStatus;
  runId?: string;
  /** The sweep metric's final value (at the best epoch with early stopping, at the stop with hyperband). */
  metric?: number;
  /** The epoch hyperband stopped the trial after. */
  stoppedAt?: number;
  reason?: string;
}

/** What "register best" did: the version it registered and the promotion gate's outcome. */
export interface SweepRegistration {
  name: string;
  version: number;
  runId: string;
  outcome: 'promoted' | 'rejected' | 'failed';
  reason: string;
  at: number;
}
