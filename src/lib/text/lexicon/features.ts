import { afinnScore } from './afinn';
import { loadInducedValence, type InducedValence } from './induced';
import { opinionPolarity } from './opinion';
import { VADER_THRESHOLD, vaderScores } from './vader';

/**
 * What the sentiment lexicons say about a text, as a fixed-length vector a model can weigh against its
 * n-grams. Every value is scaled to about −1…1 so no feature dominates the first steps of training.
 * A saved model records the version it was trained with and keeps being fed that version's features, so a
 * version only ever appends features: never reorder or change one.
 */
const VERSION_1 = [
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

/** Version 2 adds Bing Liu's opinion lexicon and valences induced from GloVe vectors (`induced.ts`). */
const VERSION_2 = [
  ...VERSION_1,
  'opinion_positive_words',
  'opinion_negative_words',
  'opinion_balance',
  'induced_mean',
  'induced_sum',
  'induced_max',
  'induced_min',
] as const;

export const LEXICON_FEATURE_SETS = { 1: VERSION_1, 2: VERSION_2 } as const;
export type LexiconFeaturesVersion = keyof typeof LEXICON_FEATURE_SETS;
/** The version new models are trained with. */
export const LEXICON_FEATURES_VERSION: LexiconFeaturesVersion = 2;
export const LEXICON_FEATURE_NAMES: readonly string[] = LEXICON_FEATURE_SETS[LEXICON_FEATURES_VERSION];
export const LEXICON_FEATURE_COUNT = LEXICON_FEATURE_NAMES.length;

export function isLexiconFeaturesVersion(version: unknown): version is LexiconFeaturesVersion {
  return typeof version === 'number' && Object.hasOwn(LEXICON_FEATURE_SETS, version);
}

// Negators in the sense of VADER's and AFINN's lists; any "…n't" / "…nt" contraction counts too.
const NEGATION = /^(?:not|no|never|none|nothing|nobody|nowhere|neither|nor|cannot|without|\p{L}+n['’]?t)$/u;

/** Lower-cased words (letters, digits, inner apostrophes). */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'’]*/gu) ?? [];
}

/** The version-1 features: VADER, AFINN and the shape of the sentence. */
function lexiconScores(text: string): number[] {
  const vader = vaderScores(text);
  const afinn = afinnScore(text);
  const noWord = vader.pos === 0 && vader.neg === 0 && afinn.positive === 0 && afinn.negative === 0;
  const tokens = words(text);
  return [
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
  ];
}

/** Words as GloVe was trained on them: lower case, hyphens kept, "don't" → "do" + "n't". */
export function gloveTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.toLowerCase().replace(/’/g, "'").match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []) {
    if (word.length > 3 && word.endsWith("n't")) tokens.push(word === "can't" ? 'ca' : word === "won't" ? 'wo' : word.slice(0, -3), "n't");
    else tokens.push(word);
  }
  return tokens;
}

// Too frequent to carry polarity; their induced valences are regression noise.
const STOP_WORDS = new Set('a an and are as at be by for from had has have he i in is it its my of on or our she so that the their they this to was we were with you'.split(' '));
// A word counts as negated when one of the three before it negates ("not very good").
const NEGATION_SCOPE = 3;

function negated(tokens: readonly string[], i: number): boolean {
  for (let j = Math.max(0, i - NEGATION_SCOPE); j < i; j++) if (tokens[j] === "n't" || NEGATION.test(tokens[j]!)) return true;
  return false;
}

/** The features version 2 adds: opinion-lexicon counts and induced valences, both with negation flipped. */
function reviewScores(text: string, induced: InducedValence): number[] {
  const tokens = gloveTokens(text);
  let positive = 0;
  let negative = 0;
  let sum = 0;
  let count = 0;
  let max = 0;
  let min = 0;
  tokens.forEach((token, i) => {
    const sign = negated(tokens, i) ? -1 : 1;
    const polarity = opinionPolarity(token);
    if (polarity !== undefined) {
      if (polarity * sign > 0) positive++;
      else negative++;
    }
    const valence = STOP_WORDS.has(token) ? undefined : induced.get(token);
    if (valence === undefined) return;
    const signed = sign * valence;
    sum += signed;
    max = count === 0 ? signed : Math.max(max, signed);
    min = count === 0 ? signed : Math.min(min, signed);
    count++;
  });
  return [Math.min(positive, 5) / 5, Math.min(negative, 5) / 5, Math.tanh((positive - negative) / 2), count > 0 ? sum / count : 0, Math.tanh(sum), max, min];
}

/**
 * The lexicon features of one text in a given version (see `LEXICON_FEATURE_SETS` for the order). Version 2
 * needs the induced valences (`loadInducedValence`).
 * @example lexiconFeatures('not good', 1) // vader_compound −0.3412, afinn_score tanh(−3/5), …
 */
export function lexiconFeatures(text: string, version: LexiconFeaturesVersion, induced?: InducedValence): Float32Array {
  if (version === 1) return Float32Array.from(lexiconScores(text));
  if (!induced) throw new Error('lexicon features version 2 need the induced valences: load them with loadInducedValence()');
  return Float32Array.from([...lexiconScores(text), ...reviewScores(text, induced)]);
}

/**
 * A featuriser for one version, with what it needs loaded and a bounded memo: training featurises the same
 * texts every epoch, and VADER's rules cost about 0.2 ms a text.
 */
export async function lexiconFeaturizer(version: LexiconFeaturesVersion = LEXICON_FEATURES_VERSION, limit = 50_000): Promise<(text: string) => Float32Array> {
  const induced = version >= 2 ? await loadInducedValence() : undefined;
  const cache = new Map<string, Float32Array>();
  return (text) => {
    let features = cache.get(text);
    if (!features) {
      features = lexiconFeatures(text, version, induced);
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(text, features);
    }
    return features;
  };
}
