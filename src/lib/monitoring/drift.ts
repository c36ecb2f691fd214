import type { RollupRow } from '$lib/db/types';
import { binLabel, INPUT_STATS, INPUT_STAT_NAMES, SCORE_EDGES, type InputStatName } from './bins';
import { categoricalPsi, DEFAULT_PSI_THRESHOLDS, driftLevel, psi, type DriftLevel, type PsiThresholds } from './psi';
import type { ReferenceProfile } from './reference';

export type DriftFeatureKey = 'predictions' | 'confidence' | InputStatName;

export interface DriftFeature {
  key: DriftFeatureKey;
  label: string;
  psi: number;
  level: DriftLevel;
  /** Both distributions as shares per bin, for the chart beside the figure. */
  bins: { label: string; reference: number; live: number }[];
}

export interface DriftReport {
  model: string;
  /** The version whose reference the live window was compared with. */
  version: number;
  liveCount: number;
  referenceCount: number;
  features: DriftFeature[];
  /** The worst level over all features, or `insufficient` with too little traffic to judge. */
  level: DriftLevel | 'insufficient';
  maxPsi?: number;
  /** One plain-language sentence. */
  verdict: string;
}

/** Fewer live predictions than this and PSI is mostly noise: no verdict. */
export const MIN_LIVE_FOR_DRIFT = 30;

const shares = (counts: readonly number[]) => {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return counts.map((c) => c / total);
};

function binnedFeature(key: DriftFeatureKey, label: string, edges: readonly number[], reference: number[], live: number[], thresholds: PsiThresholds): DriftFeature {
  const value = psi(reference, live);
  const r = shares(reference);
  const l = shares(live);
  return { key, label, psi: value, level: driftLevel(value, thresholds), bins: r.map((share, i) => ({ label: binLabel(edges, i), reference: share, live: l[i]! })) };
}

const sum = (counts: readonly number[] | undefined) => (counts ?? []).reduce((a, b) => a + b, 0);

/**
 * Compares a live window (the sum of its rollups) with a version's reference: PSI on the predictions,
 * the confidences and each input statistic both sides have, with a verdict a person can act on.
 * @example const report = driftReport(sumRollups('sentiment', rollups), reference);
 */
export function driftReport(live: RollupRow, reference: ReferenceProfile, thresholds: PsiThresholds = DEFAULT_PSI_THRESHOLDS): DriftReport {
  const ref = reference.summary;
  const base = { model: reference.model, version: reference.version, liveCount: live.count, referenceCount: ref.count };
  if (live.count < MIN_LIVE_FOR_DRIFT) {
    return {
      ...base,
      features: [],
      level: 'insufficient',
      verdict: `Not enough traffic to judge drift: ${live.count} predictions in the window, at least ${MIN_LIVE_FOR_DRIFT} are needed.`,
    };
  }
  const features: DriftFeature[] = [];
  if (sum(Object.values(ref.outputs)) > 0 && sum(Object.values(live.outputs)) > 0) {
    const keys = [...new Set([...Object.keys(ref.outputs), ...Object.keys(live.outputs)])].sort();
    const r = keys.map((k) => ref.outputs[k] ?? 0);
    const l = keys.map((k) => live.outputs[k] ?? 0);
    const value = categoricalPsi(ref.outputs, live.outputs);
    const rs = shares(r);
    const ls = shares(l);
    features.push({ key: 'predictions', label: 'predictions', psi: value, level: driftLevel(value, thresholds), bins: keys.map((k, i) => ({ label: k, reference: rs[i]!, live: ls[i]! })) });
  }
  if (ref.score.count > 0 && live.score.count > 0) {
    features.push(binnedFeature('confidence', 'confidence', SCORE_EDGES, ref.score.bins, live.score.bins, thresholds));
  }
  for (const name of INPUT_STAT_NAMES) {
    const r = ref.inputs[name];
    const l = live.inputs[name];
    if (sum(r) > 0 && sum(l) >= MIN_LIVE_FOR_DRIFT) features.push(binnedFeature(name, INPUT_STATS[name].label, INPUT_STATS[name].edges, r!, l!, thresholds));
  }
  if (features.length === 0) {
    return { ...base, features, level: 'insufficient', verdict: 'Nothing to compare: the reference and the live window share no measured distribution.' };
  }
  const worst = features.reduce((a, b) => (b.psi > a.psi ? b : a));
  const level = worst.level;
  const drifted = features
    .filter((f) => f.level !== 'stable')
    .sort((a, b) => b.psi - a.psi)
    .map((f) => `${f.label} (PSI ${f.psi.toFixed(2)})`);
  const verdict =
    level === 'stable'
      ? `No drift: live traffic looks like the evaluation data of v${reference.version} (largest PSI ${worst.psi.toFixed(2)}, on ${worst.label}).`
      : level === 'moderate'
        ? `Moderate drift in ${drifted.join(', ')}: watch it; the model may start to err on this traffic.`
        : `Significant drift in ${drifted.join(', ')}: live inputs or predictions no longer look like the data v${reference.version} was evaluated on — check accuracy on fresh labels and consider retraining.`;
  return { ...base, features, level, maxPsi: worst.psi, verdict };
}
