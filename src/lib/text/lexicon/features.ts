import { afinnScore } from './afinn';
import { VADER_THRESHOLD, vaderScores } from './vader';

/**
 * What the sentiment lexicons say about a text, as a fixed-length vector a model can weigh against its
 * n-grams. Every value is scaled to about −1…1 so no feature dominates the first steps of training.
 * The order is part of a saved model: append new features, never reorder (`LEXICON_FEATURES_VERSION`).
 */
export const LEXICON_FEATURE_NAMES = [
  'vader_compound',
  'vader_pos',
  'vader_neg',
  'vader_says_positive',
  'vader_says_negative',
  'afinn_score',
  'afinn_comparative',
  'afinn_positive_words',
  'afinn_negative_words',
  'no_lexicon_word',
  'has_but',
  'has_negation',
  'exclamations',
  'is_question',
  'log_length',
] as const;

export const LEXICON_FEATURES_VERSION = 1;

// Negators in the sense of VADER's and AFINN's lists; any "…n't" / "…nt" contraction counts too.
const NEGATION = /^(?:not|no|never|none|nothing|nobody|nowhere|neither|nor|cannot|without|\p{L}+n['’]?t)$/u;

/** Lower-cased words (letters, digits, inner apostrophes). */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'’]*/gu) ?? [];
}
export const LEXICON_FEATURE_COUNT = LEXICON_FEATURE_NAMES.length;

/**
 * The lexicon features of one text (see `LEXICON_FEATURE_NAMES` for the order).
 * @example lexiconFeatures('not good') // vader_compound −0.3412, afinn_score tanh(−3/5), …
 */
export function lexiconFeatures(text: string): Float32Array {
  const vader = vaderScores(text);
  const afinn = afinnScore(text);
  const noWord = vader.pos === 0 && vader.neg === 0 && afinn.positive === 0 && afinn.negative === 0;
  const tokens = words(text);
  return Float32Array.from([
    vader.compound,
    vader.pos,
    vader.neg,
    vader.compound >= VADER_THRESHOLD ? 1 : 0,
    vader.compound <= -VADER_THRESHOLD ? 1 : 0,
    // AFINN sums are unbounded (−5 per word): tanh keeps long rants in range.
    Math.tanh(afinn.score / 5),
    Math.max(-1, Math.min(1, afinn.comparative)),
    Math.min(afinn.positive, 5) / 5,
    Math.min(afinn.negative, 5) / 5,
    noWord ? 1 : 0,
    // Shape of the sentence: "but" shifts the weight to what follows, negation flips, "!" intensifies.
    tokens.includes('but') ? 1 : 0,
    tokens.some((t) => NEGATION.test(t)) ? 1 : 0,
    Math.min((text.match(/!/g) ?? []).length, 3) / 3,
    text.includes('?') ? 1 : 0,
    Math.log1p(tokens.length) / 4,
  ]);
}

/**
 * `lexiconFeatures` with a bounded memo: training featurises the same texts every epoch, and VADER's rules
 * cost about 0.2 ms a text.
 */
export function cachedLexiconFeatures(limit = 50_000): (text: string) => Float32Array {
  const cache = new Map<string, Float32Array>();
  return (text) => {
    let features = cache.get(text);
    if (!features) {
      features = lexiconFeatures(text);
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(text, features);
    }
    return features;
  };
}
