/**
 * Sentiment samples built from phrases (negative / neutral / positive words in varied templates), as
 * sample rows of one dataset with train and val splits: learnable, so a trained model clearly beats
 * chance and an untrained one. Mirrors `seedSentimentDataset` of the unit factories.
 */
export function sentimentSamples(datasetId: string) {
  const words: Record<string, string[]> = {
    negative: ['awful', 'terrible', 'hate', 'broken', 'worst', 'disappointing', 'angry', 'sad'],
    neutral: ['okay', 'scheduled', 'announced', 'located', 'average', 'update', 'listed', 'tuesday'],
    positive: ['great', 'love', 'amazing', 'wonderful', 'best', 'happy', 'excellent', 'beautiful'],
  };
  const templates = ['the service was {w}', '{w} day at the park', 'honestly {w} experience', 'this phone is {w}'];
  return Object.entries(words).flatMap(([label, list]) =>
    Array.from({ length: 30 }, (_, i) => ({
      id: `${datasetId}-${label}-${i}`,
      datasetId,
      split: i % 5 === 0 ? 'val' : 'train',
      label,
      hash: `${label}-${i}`,
      path: `row ${i}`,
      text: templates[i % templates.length]!.replace('{w}', list[i % list.length]!),
    })),
  );
}
