import type { Hyperband } from '$lib/db/sweep-shapes';

/**
 * Hyperband early termination as Weights & Biases runs it (wandb/sweeps `hyperband_stopping.py`, after
 * Li et al. 2018): at each band (an epoch count) a trial's metric is compared with every trial's
 * metric at that same epoch, and the trial stops unless it is among the best ≈1/eta of them. Trials
 * run one after another here, so each is judged against the trials before it (asynchronous hyperband).
 * Loupe counts iterations in epochs, from 1: `min_iter: 1` judges each trial after its first epoch.
 */

/**
 * The epochs at which trials are judged, up to `maxEpochs`.
 * min_iter form: min_iter, min_iter·eta, min_iter·eta², …; max_iter form: ⌊max_iter/etaⁱ⌋ for i = 1…s.
 */
export function hyperbandBands(config: Hyperband, maxEpochs: number): number[] {
  const bands = new Set<number>();
  if (config.min_iter !== undefined) {
    for (let band = config.min_iter; band <= maxEpochs; band *= config.eta) bands.add(Math.floor(band));
  } else if (config.max_iter !== undefined) {
    let band = config.max_iter;
    for (let i = 0; i < (config.s ?? 1); i++) {
      band /= config.eta;
      if (band < 1) break;
      bands.add(Math.floor(band));
    }
  }
  return [...bands].filter((b) => b <= maxEpochs).sort((a, b) => a - b);
}

export interface HyperbandVerdict {
  stop: boolean;
  /** The value a trial had to match at this band (oriented back to the metric's own scale). */
  threshold: number;
  /** How many trials (this one included) had a value at this band. */
  compared: number;
}

/**
 * Judges a trial at a band epoch: its value against the values every earlier trial had at the same
 * epoch. The threshold is W&B's: sort all values (this trial's included) best first and take the one at
 * index ⌊n/eta⌋; stop if this trial is strictly worse. A lone trial is never stopped.
 * @example hyperbandVerdict(3, 'minimize', 0.9, [0.5, 0.6, 0.7]) // { stop: true, threshold: 0.6, compared: 4 }
 */
export function hyperbandVerdict(eta: number, goal: 'minimize' | 'maximize', value: number, peers: readonly number[]): HyperbandVerdict {
  const sign = goal === 'maximize' ? -1 : 1;
  const values = [value, ...peers.filter(Number.isFinite)].map((v) => sign * v).sort((a, b) => a - b);
  const threshold = values[Math.floor(values.length / eta)]!;
  return { stop: sign * value > threshold, threshold: sign * threshold, compared: values.length };
}
