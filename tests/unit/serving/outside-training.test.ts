import { describe, expect, it } from 'vitest';
import { outsideTraining } from '../../../src/lib/serving/outside-training';
import { trainedOn } from '../../../src/lib/training/analysis';

const year = (value: number) => ({ kind: 'regression' as const, value });
const label = (score: number) => ({ kind: 'classification' as const, label: 'positive', index: 2, score, probabilities: [0, 1 - score, score] });

describe('outsideTraining', () => {
  it('records the training years and flags a year outside them, not one inside', () => {
    const recorded = trainedOn([1900, 1850, 2020, 1977], []);
    expect(recorded).toEqual({ targetRange: { min: 1850, max: 2020 } });
    expect(outsideTraining(year(1772.4), recorded, 'year')).toBe(
      'Outside the training data: this model learned from years 1850–2020, so 1772 is an extrapolation; treat it with care.',
    );
    expect(outsideTraining(year(2031), recorded, 'year')).toMatch(/so 2031 is an extrapolation/);
    expect(outsideTraining(year(1850.2), recorded, 'year')).toBeUndefined();
    expect(outsideTraining(year(1940), recorded, 'year')).toBeUndefined();
  });

  it('flags a classifier score below what 90 % of validation predictions reached', () => {
    const scores = [0.35, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.95, 0.97, 0.99];
    const recorded = trainedOn(undefined, scores.map(label));
    expect(recorded).toEqual({ lowScore: 0.5 });
    expect(outsideTraining(label(0.41), recorded)).toMatch(/^Low confidence: a score of 0.41 is below 90 % of this model's validation predictions \(0.5 and up\)/);
    expect(outsideTraining(label(0.5), recorded)).toBeUndefined();
  });

  it('says nothing for versions that recorded nothing', () => {
    expect(outsideTraining(year(1000), undefined, 'year')).toBeUndefined();
    expect(outsideTraining(label(0.1), {})).toBeUndefined();
  });
});
