import { GREATER_IS_BETTER } from '$lib/tasks/metrics';

import type { EarlyStoppingConfig } from '$lib/db/specs';

export type { EarlyStoppingConfig } from '$lib/db/specs';

export class EarlyStoppingConfigError extends Error {
  override name = 'EarlyStoppingConfigError';
}

/**
 * Decides after each epoch whether the monitored metric improved and whether to stop. The loop keeps
 * the best epoch's weights and restores them at the end (tfjs's own `restoreBestWeights` is
 * unsupported: tensorflow/tfjs#8488).
 */
export class EarlyStopping {
  readonly mode: 'min' | 'max';
  best = Number.NaN;
  bestEpoch = -1;
  #wait = 0;

  constructor(readonly config: EarlyStoppingConfig) {
    if (!Number.isInteger(config.patience) || config.patience < 0) {
      throw new EarlyStoppingConfigError(`earlyStopping.patience must be a whole number ≥ 0, got ${config.patience}`);
    }
    const base = config.monitor.replace(/^val_/, '');
    this.mode = config.mode ?? (GREATER_IS_BETTER[base] ? 'max' : 'min');
  }

  /** Records an epoch's metrics; `stop` is true once `patience` epochs passed without improvement. */
  update(epoch: number, metrics: Record<string, number>): { improved: boolean; stop: boolean } {
    const value = metrics[this.config.monitor];
    if (value === undefined) {
      throw new EarlyStoppingConfigError(
        `earlyStopping.monitor "${this.config.monitor}" is not a metric of this run; available: ${Object.keys(metrics).join(', ')}`,
      );
    }
    const delta = this.config.minDelta ?? 0;
    const improved =
      Number.isNaN(this.best) || (this.mode === 'min' ? value < this.best - delta : value > this.best + delta);
    if (improved) {
      this.best = value;
      this.bestEpoch = epoch;
      this.#wait = 0;
    } else {
      this.#wait++;
    }
    return { improved, stop: !improved && this.#wait >= Math.max(1, this.config.patience) };
  }

  /** State to checkpoint, so a resumed run stops where an uninterrupted one would. */
  state() {
    return { best: this.best, bestEpoch: this.bestEpoch, wait: this.#wait };
  }

  restore(state: { best: number; bestEpoch: number; wait: number }): void {
    this.best = state.best;
    this.bestEpoch = state.bestEpoch;
    this.#wait = state.wait;
  }
}
