/**
 * The error analysis stored with a run (`runs.analysis`), written by `$lib/training/analysis` and
 * drawn on the Runs page. Defined here, at the bottom; the training modules re-export it.
 */

/** A metric's estimate with its 95 % bootstrap interval. */
export interface ConfidenceInterval {
  estimate: number;
  low: number;
  high: number;
}

/** Precision, recall and F1 of one class. */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Error analysis of a model on an evaluation split, stored with the run and drawn as charts. */
export type ErrorAnalysis =
  | {
      kind: 'regression';
      count: number;
      metrics: Record<'mae' | 'rmse' | 'r2' | 'medianAe', ConfidenceInterval>;
      /** (true, predicted) pairs, at most `MAX_POINTS`, for the scatter plot. */
      points: [number, number][];
      residualHistogram: { from: number; to: number; count: number }[];
      byDecade: { decade: number; mae: number; count: number }[];
    }
  | {
      kind: 'classification';
      count: number;
      labels: string[];
      accuracy: ConfidenceInterval;
      macroF1: ConfidenceInterval;
      perClass: ClassMetrics[];
      confusion: number[][];
    };
