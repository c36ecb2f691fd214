import { describe, expect, it } from 'vitest';
import { findDuplicates, frequentTokens, imageSizeDistribution, labelDistribution, textLengthDistribution, type EdaSample } from '../../../src/lib/datasets/eda';

const sample = (over: Partial<EdaSample>): EdaSample => ({ label: 'minor', split: 'train', hash: Math.random().toString(36), path: 'p', ...over });

describe('EDA', () => {
  it('counts classes in the task order, per split', () => {
    const bars = labelDistribution([sample({ label: 'major' }), sample({ label: 'minor', split: 'val' }), sample({ label: 'major', split: 'test' })], 'image-classification');
    expect(bars).toEqual([
      { label: 'minor', value: 1, bySplit: { val: 1 } },
      { label: 'moderate', value: 0, bySplit: {} },
      { label: 'major', value: 2, bySplit: { train: 1, test: 1 } },
    ]);
  });

  it('counts the classes the dataset has: a 2-class sentiment set shows no neutral bar', () => {
    const reviews = [sample({ label: 'positive' }), sample({ label: 'negative', split: 'val' })];
    expect(labelDistribution(reviews, 'text-classification', undefined, ['negative', 'positive']).map((b) => [b.label, b.value])).toEqual([
      ['negative', 1],
      ['positive', 1],
    ]);
    // An empty class of the dataset's own list still shows, as zero.
    expect(labelDistribution(reviews, 'text-classification', undefined, ['negative', 'neutral', 'positive']).map((b) => b.value)).toEqual([1, 0, 1]);
  });

  it('bins years by decade, keeping empty decades in the range', () => {
    const bars = labelDistribution([1851, 1859, 1873, 1905].map((label) => sample({ label })), 'coin-year');
    expect(bars.map((b) => [b.label, b.value])).toEqual([['1850', 2], ['1860', 0], ['1870', 1], ['1880', 0], ['1890', 0], ['1900', 1]]);
  });

  it('summarises image sizes, counting both sides of coins', () => {
    const stats = imageSizeDistribution([
      sample({ width: 100, height: 50, bytes: 10 }),
      sample({ sizes: [{ width: 100, height: 50 }, { width: 30, height: 40 }], bytes: 30 }),
    ]);
    expect(stats.common).toEqual([{ size: '100×50', count: 2 }, { size: '30×40', count: 1 }]);
    expect(stats.width).toMatchObject({ min: 30, max: 100, median: 100, count: 3 });
    expect(stats.bytes).toMatchObject({ mean: 20 });
    expect(stats.longSide.reduce((n, b) => n + b.value, 0)).toBe(3);
  });

  it('finds exact and near duplicates, conflicting labels first', () => {
    const groups = findDuplicates([
      sample({ path: 'a', hash: 'x', label: 'minor' }),
      sample({ path: 'b', hash: 'x', label: 'minor' }),
      sample({ path: 'c', text: 'Great day!! https://t.co/1', label: 'positive' }),
      sample({ path: 'd', text: 'great day', label: 'negative' }),
      sample({ path: 'e', text: 'something else', label: 'neutral' }),
    ]);
    expect(groups).toEqual([
      { kind: 'near', key: 'great day', paths: ['c', 'd'], labels: ['positive', 'negative'] },
      { kind: 'exact', key: 'x', paths: ['a', 'b'], labels: ['minor', 'minor'] },
    ]);
  });

  it('describes text lengths and frequent tokens without stopwords', () => {
    const texts = ['I love this phone', 'love the screen, love it', 'the battery is awful', 'awful awful service'];
    const samples = texts.map((text, i) => sample({ text, label: i < 2 ? 'positive' : 'negative' }));
    expect(textLengthDistribution(samples).words).toMatchObject({ min: 3, max: 5, count: 4 });
    const tokens = frequentTokens(samples, { top: 3 });
    expect(tokens.overall).toEqual([{ token: 'awful', count: 2 }, { token: 'love', count: 2 }, { token: 'battery', count: 1 }]);
    expect(tokens.byLabel.positive?.[0]).toEqual({ token: 'love', count: 2 });
    expect(tokens.overall.some((t) => t.token === 'the')).toBe(false);
  });
});
