import english from 'sentiment/languages/en/index.js';

/**
 * AFINN-165 (Finn Årup Nielsen's word list, 3,382 words rated −5…5), as the `sentiment` package ships it,
 * scored the way that package does: its tokenizer, and a word right after a negator ("not", "don't", …)
 * counts with the opposite sign.
 */
export const AFINN: Readonly<Record<string, number>> = english.labels;

// sentiment/languages/en/negators.json
const NEGATORS = new Set(['cant', "can't", 'dont', "don't", 'doesnt', "doesn't", 'not', 'non', 'wont', "won't", 'isnt', "isn't"]);

export interface AfinnScore {
  /** Sum of the (negation-flipped) valences of the words found. */
  score: number;
  /** `score` / number of tokens (0 for an empty text). */
  comparative: number;
  /** Words scoring above / below zero after negation. */
  positive: number;
  negative: number;
  tokens: number;
}

/** The `sentiment` package's tokenizer: lower case, punctuation to spaces, split on single spaces. */
export function afinnTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\n/g, ' ')
    .replace(/[.,/#!?$%^&*;:{}=_`"~()]/g, ' ')
    .replace(/\s\s+/g, ' ')
    .trim()
    .split(' ');
}

/** Valence of a lower-case word in AFINN-165, or undefined when it is not rated. */
export function afinnValence(word: string): number | undefined {
  return Object.hasOwn(AFINN, word) ? AFINN[word] : undefined;
}

/**
 * AFINN score of a text (the same figures as `new Sentiment().analyze(text)` without its emoji list).
 * @example afinnScore('not good').score // -3
 */
export function afinnScore(text: string): AfinnScore {
  const tokens = afinnTokens(text);
  let score = 0;
  let positive = 0;
  let negative = 0;
  tokens.forEach((token, i) => {
    const valence = afinnValence(token);
    if (valence === undefined) return;
    const signed = i > 0 && NEGATORS.has(tokens[i - 1]!) ? -valence : valence;
    score += signed;
    if (signed > 0) positive++;
    if (signed < 0) negative++;
  });
  // '' tokenises to [''], as in the package: one (empty) token.
  return { score, comparative: tokens.length > 0 ? score / tokens.length : 0, positive, negative, tokens: tokens.length };
}
