import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { readSentences } from '../../../scripts/eval-real/sentences';
import { afinnScore, afinnTokens, afinnValence } from '../../../src/lib/text/lexicon/afinn';
import { gloveTokens, LEXICON_FEATURE_COUNT, LEXICON_FEATURE_NAMES, LEXICON_FEATURE_SETS, lexiconFeatures, lexiconFeaturizer } from '../../../src/lib/text/lexicon/features';
import { loadInducedValence } from '../../../src/lib/text/lexicon/induced';
import { opinionPolarity } from '../../../src/lib/text/lexicon/opinion';
import { vaderScores } from '../../../src/lib/text/lexicon/vader';

/** Version-1 features by name, rounded to 4 places (VADER rounds to 4). */
const named = (text: string) => Object.fromEntries(LEXICON_FEATURE_SETS[1].map((name, i) => [name, Number(lexiconFeatures(text, 1)[i]!.toFixed(4))]));

describe('AFINN-165 scoring', () => {
  it('sums word valences: "great" 3 + "fun" 4 over 6 tokens', () => {
    expect(afinnTokens('The movie was great, and fun!')).toEqual(['the', 'movie', 'was', 'great', 'and', 'fun']);
    expect(afinnScore('The movie was great, and fun!')).toEqual({ score: 7, comparative: 7 / 6, positive: 2, negative: 0, tokens: 6 });
  });

  it('flips the word right after a negator', () => {
    expect(afinnScore('not good')).toEqual({ score: -3, comparative: -1.5, positive: 0, negative: 1, tokens: 2 });
    expect(afinnScore("don't hate it").score).toBe(3);
    // Only the next word: "not very good" keeps "good" positive, as the `sentiment` package does.
    expect(afinnScore('not very good').score).toBe(3);
  });

  it('gives unrated words nothing', () => {
    expect(afinnValence('zorblat')).toBeUndefined();
    expect(afinnValence('constructor')).toBeUndefined(); // no prototype keys
    expect(afinnScore('the zorblat')).toEqual({ score: 0, comparative: 0, positive: 0, negative: 0, tokens: 2 });
  });

  it('matches the `sentiment` package on all 3,000 UCI sentences', async () => {
    const Sentiment = createRequire(import.meta.url)('sentiment') as new () => { analyze(text: string): { score: number; comparative: number } };
    const reference = new Sentiment();
    const texts = (await readSentences()).flatMap((s) => s.candidates.map((c) => c.text));
    expect(texts).toHaveLength(3_000);
    const differing = texts.filter((t) => {
      const ours = afinnScore(t);
      const theirs = reference.analyze(t);
      return ours.score !== theirs.score || Math.abs(ours.comparative - theirs.comparative) > 1e-12;
    });
    expect(differing).toEqual([]);
  });
});

describe('lexicon features, version 1', () => {
  it('"not good": VADER negates 1.9 × −0.74 = −1.406, compound −1.406/√(1.406² + 15) = −0.3412', () => {
    expect(vaderScores('not good').compound).toBeCloseTo(-1.406 / Math.sqrt(1.406 ** 2 + 15), 4);
    expect(named('not good')).toEqual({
      vader_compound: -0.3412,
      vader_pos: 0,
      // VADER's neg share: (1.406 + 1) / (1.406 + 1 + 1 neutral word) = 0.706
      vader_neg: 0.706,
      vader_says_positive: 0,
      vader_says_negative: 1,
      afinn_score: Number(Math.tanh(-3 / 5).toFixed(4)),
      afinn_comparative: -1, // −3 / 2 tokens, clipped to −1
      afinn_positive_words: 0,
      afinn_negative_words: 0.2,
      no_lexicon_word: 0,
      has_but: 0,
      has_negation: 1,
      exclamations: 0,
      is_question: 0,
      log_length: Number((Math.log1p(2) / 4).toFixed(4)),
    });
  });

  it('"great": valence 3.1 → compound 3.1/√(3.1² + 15) = 0.6249; capitals and "!!!" raise it', () => {
    expect(named('great')).toMatchObject({ vader_compound: 0.6249, vader_pos: 1, vader_says_positive: 1, afinn_score: Number(Math.tanh(3 / 5).toFixed(4)), afinn_comparative: 1, afinn_positive_words: 0.2 });
    const shouted = named('GREAT!!!');
    expect(shouted.vader_compound).toBeGreaterThan(0.6249);
    expect(shouted.exclamations).toBe(1);
  });

  it('unseen words carry no polarity and say so', () => {
    expect(named('the zorblat frimbled')).toEqual({
      ...Object.fromEntries(LEXICON_FEATURE_SETS[1].map((n) => [n, 0])),
      no_lexicon_word: 1,
      log_length: Number((Math.log1p(3) / 4).toFixed(4)),
    });
  });

  it('marks "but", contractions as negation, and questions', () => {
    expect(named("It didn't break, but is it worth it?")).toMatchObject({ has_but: 1, has_negation: 1, is_question: 1 });
    expect(named('Nothing works')).toMatchObject({ has_negation: 1, no_lexicon_word: 1 });
    expect(named('Knot tied')).toMatchObject({ has_negation: 0 });
  });

  it('has a fixed width and stays within [−1, 1] on long rants', () => {
    const rant = 'awful terrible horrible bad worst hate '.repeat(10);
    const features = lexiconFeatures(rant, 1);
    expect(features).toHaveLength(15);
    expect(Array.from(features).every((v) => v >= -1 && v <= 1.5)).toBe(true);
    expect(features[LEXICON_FEATURE_SETS[1].indexOf('afinn_score')]!).toBeCloseTo(-1, 3);
  });
});

describe('lexicon features, version 2', () => {
  const v2 = async (text: string) => {
    const features = lexiconFeatures(text, 2, await loadInducedValence());
    return Object.fromEntries(LEXICON_FEATURE_NAMES.map((name, i) => [name, features[i]!]));
  };

  it('starts with the 15 version-1 features, unchanged, and adds 7', async () => {
    expect(LEXICON_FEATURE_NAMES.slice(0, 15)).toEqual([...LEXICON_FEATURE_SETS[1]]);
    expect(LEXICON_FEATURE_COUNT).toBe(22);
    const text = "It didn't break, but is it worth it?";
    expect(Array.from(lexiconFeatures(text, 2, await loadInducedValence())).slice(0, 15)).toEqual(Array.from(lexiconFeatures(text, 1)));
    expect(() => lexiconFeatures(text, 2)).toThrow('need the induced valences');
  });

  it('counts Bing Liu opinion words, flipped within three words of a negation', async () => {
    expect([opinionPolarity('sturdy'), opinionPolarity('flimsy'), opinionPolarity('table')]).toEqual([1, -1, undefined]);
    expect(await v2('Sturdy and reliable, a bargain')).toMatchObject({ opinion_positive_words: Math.fround(0.6), opinion_negative_words: 0, opinion_balance: Math.fround(Math.tanh(1.5)) });
    // "well" is positive; after "doesn't" it counts as negative, next to "flimsy".
    expect(await v2("flimsy, and it doesn't work well")).toMatchObject({ opinion_positive_words: 0, opinion_negative_words: Math.fround(0.4) });
  });

  it('gives review words no lexicon rates a polarity from their GloVe neighbours', async () => {
    const induced = await loadInducedValence();
    expect(induced.size).toBe(50_000);
    // Not in VADER, AFINN or Bing Liu's lists, yet clearly polar in reviews.
    for (const word of ['tasty', 'flavorful', 'soggy']) {
      expect([opinionPolarity(word), afinnValence(word), vaderScores(word).compound], word).toEqual([undefined, undefined, 0]);
    }
    expect(induced.get('tasty')!).toBeGreaterThan(0.15);
    expect(induced.get('flavorful')!).toBeGreaterThan(0.15);
    expect(induced.get('soggy')!).toBeLessThan(-0.15);
    const tasty = await v2('The soup was tasty');
    expect(tasty.induced_mean).toBeGreaterThan(0);
    expect(tasty.induced_max).toBeCloseTo(induced.get('tasty')!, 6);
    // Negation flips: "not tasty" is at least as negative as "tasty" is positive.
    expect((await v2('The soup was not tasty')).induced_min).toBeCloseTo(-induced.get('tasty')!, 6);
    expect(await v2('the zorblat')).toMatchObject({ induced_mean: 0, induced_sum: 0, induced_max: 0, induced_min: 0 });
  });

  it('splits contractions the way GloVe was trained', () => {
    expect(gloveTokens("Don't buy: it’s a rip-off, I CAN'T stand it")).toEqual(['do', "n't", 'buy', "it's", 'a', 'rip-off', 'i', 'ca', "n't", 'stand', 'it']);
  });

  it('the featuriser memoises within its bound and returns the same values', async () => {
    const featurize = await lexiconFeaturizer(2, 2);
    const induced = await loadInducedValence();
    expect(Array.from(featurize('not good'))).toEqual(Array.from(lexiconFeatures('not good', 2, induced)));
    featurize('a');
    featurize('b'); // evicts "not good"
    expect(Array.from(featurize('not good'))).toEqual(Array.from(lexiconFeatures('not good', 2, induced)));
    expect(await lexiconFeaturizer(1).then((f) => f('not good'))).toHaveLength(15);
  });
});
