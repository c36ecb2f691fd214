import type { TrainedOn } from '$lib/db/registry-shapes';
import { formatNumber } from '$lib/format';
import type { Prediction } from '$lib/tasks/types';

/**
 * A note for a prediction made outside what its model was trained on, or undefined when it is inside
 * (or the version recorded nothing to compare with). `unit` names a regression output (`year`).
 * @example outsideTraining({ kind: 'regression', value: 1772 }, { targetRange: { min: 1850, max: 2020 } }, 'year')
 * // 'Outside the training data: this model learned from years 1850–2020, so 1772 is an extrapolation; treat it with care.'
 */
export function outsideTraining(prediction: Prediction, trainedOn: TrainedOn | undefined, unit = 'value'): string | undefined {
  if (prediction.kind === 'regression') {
    const range = trainedOn?.targetRange;
    if (!range || (prediction.value >= range.min - 0.5 && prediction.value <= range.max + 0.5)) return undefined;
    return `Outside the training data: this model learned from ${unit}s ${formatNumber(range.min)}–${formatNumber(range.max)}, so ${Math.round(prediction.value)} is an extrapolation; treat it with care.`;
  }
  const low = trainedOn?.lowScore;
  if (low === undefined || prediction.score >= low) return undefined;
  return `Low confidence: a score of ${formatNumber(prediction.score)} is below 90 % of this model's validation predictions (${formatNumber(low)} and up); the input may be unlike what it was trained on.`;
}
