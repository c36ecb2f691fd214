import { describe, expect, it } from 'vitest';
import { induceValences, ridgeRegression, type Embeddings } from '../../../scripts/lexicon/induce';
import { encodeInducedValence, InducedValence, INDUCED_VALENCE_SCALE } from '../../../src/lib/text/lexicon/induced';

function embeddings(table: Record<string, [number, number]>): Embeddings {
  const words = Object.keys(table);
  return { words, vectors: Float32Array.from(words.flatMap((w) => table[w]!)), dims: 2 };
}

describe('ridge regression', () => {
  it('recovers an exact linear relation (y = 2a − b + 0.5) when the penalty is tiny', () => {
    const rows = [[0, 0], [1, 0], [0, 1], [1, 1], [2, 3], [-1, 4]].map((r) => Float32Array.from(r));
    const targets = rows.map(([a, b]) => 2 * a! - b! + 0.5);
    const weights = ridgeRegression(rows, targets, 1e-9);
    expect(Array.from(weights).map((w) => Number(w.toFixed(6)))).toEqual([2, -1, 0.5]);
  });

  it('shrinks the weights (not the bias) as the penalty grows', () => {
    const rows = [[1], [2], [3]].map((r) => Float32Array.from(r));
    const [slope] = ridgeRegression(rows, [2, 4, 6], 100);
    expect(slope!).toBeGreaterThan(0);
    expect(slope!).toBeLessThan(1);
  });
});

describe('lexicon induction', () => {
  // One axis carries polarity, the other topic: what GloVe's vectors do, in two dimensions.
  const space = embeddings({
    table: [0, 1],
    good: [1, 0.1],
    bad: [-1, 0.1],
    great: [0.9, 0],
    awful: [-0.9, 0],
    chair: [0.05, 0.9],
    superb: [0.95, 0.05],
    dreadful: [-0.95, 0.05],
    sofa: [0, 0.95],
  });
  const ratings = new Map([['good', 0.6], ['great', 0.8], ['bad', -0.6], ['awful', -0.8]]);

  it('carries polarity to unrated words near rated ones, and leaves topic words near zero', () => {
    const valences = induceValences(space, ratings, { lambda: 0.01, neutralRatio: 1, neutralPool: 3 });
    const of = (w: string) => valences[space.words.indexOf(w)]!;
    expect(of('superb')).toBeGreaterThan(0.5);
    expect(of('dreadful')).toBeLessThan(-0.5);
    expect(Math.abs(of('sofa'))).toBeLessThan(0.15);
    expect(Array.from(valences).every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('says why when no rated word has a vector', () => {
    expect(() => induceValences(space, new Map([['zorblat', 1]]))).toThrow('none of the rated words has a vector');
  });
});

describe('the induced valence file', () => {
  it('round-trips valences to within one step of 1/127', () => {
    const words = ['good', 'bad', "n't", 'rip-off'];
    const valences = Float32Array.from([0.5, -1, 0, 0.333]);
    const table = new InducedValence(encodeInducedValence(words, valences, 'test'));
    expect(table.size).toBe(4);
    words.forEach((w, i) => expect(Math.abs(table.get(w)! - valences[i]!)).toBeLessThanOrEqual(0.5 / INDUCED_VALENCE_SCALE));
    expect(table.get('zorblat')).toBeUndefined();
  });

  it('refuses words it could not store and files whose parts disagree', () => {
    expect(() => encodeInducedValence(['two words'], Float32Array.of(0), 'test')).toThrow('"two words" is empty or holds whitespace');
    expect(() => encodeInducedValence(['a', 'b'], Float32Array.of(0), 'test')).toThrow('2 words but 1 valences');
    const file = encodeInducedValence(['a', 'b'], Float32Array.of(0.1, 0.2), 'test');
    expect(() => new InducedValence({ ...file, words: 'a b c' })).toThrow('3 words but 2 valences');
  });
});
