/**
 * Population stability index between a reference and a live distribution over the same bins:
 * PSI = Σ (live% − ref%) · ln(live% / ref%). Empty bins count as `EPSILON` so one unseen bin gives a
 * large but finite index (the usual practice, e.g. Evidently's `psi` stat test).
 */
export const PSI_EPSILON = 1e-4;

/** The conventional reading of PSI: < 0.1 no meaningful change, 0.1–0.25 moderate, ≥ 0.25 significant. */
export interface PsiThresholds {
  moderate: number;
  significant: number;
}

export const DEFAULT_PSI_THRESHOLDS: PsiThresholds = { moderate: 0.1, significant: 0.25 };

export type DriftLevel = 'stable' | 'moderate' | 'significant';

/**
 * PSI of two count vectors of equal length.
 * @example psi([50, 50], [50, 50]) // 0
 */
export function psi(reference: readonly number[], live: readonly number[]): number {
  if (reference.length !== live.length) throw new RangeError(`PSI needs the same bins on both sides, got ${reference.length} and ${live.length}`);
  const refTotal = reference.reduce((a, b) => a + b, 0);
  const liveTotal = live.reduce((a, b) => a + b, 0);
  if (refTotal <= 0 || liveTotal <= 0) throw new RangeError('PSI needs at least one count on each side');
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]! / refTotal, PSI_EPSILON);
    const l = Math.max(live[i]! / liveTotal, PSI_EPSILON);
    sum += (l - r) * Math.log(l / r);
  }
  return sum;
}

/** PSI of two categorical count maps, over the union of their categories. */
export function categoricalPsi(reference: Record<string, number>, live: Record<string, number>): number {
  const keys = [...new Set([...Object.keys(reference), ...Object.keys(live)])];
  return psi(
    keys.map((k) => reference[k] ?? 0),
    keys.map((k) => live[k] ?? 0),
  );
}

export function driftLevel(value: number, thresholds: PsiThresholds = DEFAULT_PSI_THRESHOLDS): DriftLevel {
  if (value >= thresholds.significant) return 'significant';
  if (value >= thresholds.moderate) return 'moderate';
  return 'stable';
}
