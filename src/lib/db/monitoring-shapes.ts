/**
 * Persisted names of monitoring: what an alert rule watches (`alertRules.metric`) and which input
 * statistics the inference log and rollups keep (`inferenceLog.stats`, `rollups.inputs`). Defined
 * here, at the bottom; `$lib/monitoring/metrics` and `$lib/monitoring/bins` re-export them beside
 * their labels and bin edges.
 */

/** What an alert rule can watch. */
export type AlertMetric =
  | 'accuracy'
  | 'feedback_mae'
  | 'evaluation'
  | 'latency_p50'
  | 'latency_p95'
  | 'latency_p99'
  | 'error_rate'
  | 'mean_confidence'
  | 'requests'
  | 'psi_max'
  | 'psi_predictions'
  | 'psi_confidence'
  | 'psi_inputs';

/** Simple statistics of an input, kept per log row for drift (DESIGN: a few summary statistics). */
export type InputStatName = 'textLength' | 'oovRate' | 'brightness' | 'imageSide' | 'imageKb';
