import { describe, expect, it } from 'vitest';
import { qualityMarkdown, type SeedSpread, type SentenceSplit } from '../../../scripts/eval-real/report';

const scores = (accuracy: number) => ({ accuracy, macroF1: accuracy });
const split = (test: string, lexicon: number, vader: number): SentenceSplit => ({
  train: ['a', 'b'],
  test,
  trainCount: 2000,
  testCount: 1000,
  fastText: scores(0.7),
  lexicon: scores(lexicon),
  vader: scores(vader),
  afinn: scores(0.75),
  trainSeconds: 1,
  lexiconSeconds: 1,
});
const run = { backend: 'wasm', machine: 'test', ranAt: '2026-11-23' };
const markdown = (splits: SentenceSplit[], seedSpread?: SeedSpread) =>
  qualityMarkdown({ sentences: { sources: [], splits, settings: {}, ...run, ...(seedSpread ? { seedSpread: { ...seedSpread, ...run } } : {}) } });

describe('docs/quality.md, sentences', () => {
  it('counts 30 more sentences right of 1,000 as +3.0 points, the target (0.82 − 0.79 is 2.9999… in floating point)', () => {
    const text = markdown([split('imdb', 0.82, 0.79)]);
    expect(text).toContain('| lexicon-aware − VADER (points) | +3.0 |');
    expect(text).toContain('| target: lexicon-aware ≥ VADER + 3 | **reached** |');
    expect(text).toContain('**The target is reached** on every split');
    expect(text).toContain('Margins above the target, in test sentences: imdb 0 — narrow');
  });

  it('names the splits that miss the target by one sentence', () => {
    const text = markdown([split('amazon', 0.881, 0.829), split('imdb', 0.819, 0.79)]);
    expect(text).toContain('| target: lexicon-aware ≥ VADER + 3 | **reached** | **not reached** |');
    expect(text).toContain('**The target is reached on amazon and not reached on imdb** (lexicon-aware − VADER: imdb +2.9 points)');
  });

  it('shows the margin per seed, its mean, and where the target holds on average', () => {
    const spread: SeedSpread = {
      spec: { ngramDropout: 0.8 },
      testCounts: { amazon: 1000, imdb: 1000 },
      vader: { amazon: 0.829, imdb: 0.79 },
      runs: [
        { seed: 1, accuracy: { amazon: 0.878, imdb: 0.806 } },
        { seed: 2, accuracy: { amazon: 0.884, imdb: 0.822 } },
      ],
    };
    const text = markdown([split('amazon', 0.881, 0.829), split('imdb', 0.82, 0.79)], spread);
    expect(text).toContain('| 1 | +4.9 | +1.6 |');
    expect(text).toContain('| mean | +5.2 | +2.4 |');
    expect(text).toContain('| seeds at ≥ +3 | 2 of 2 | 1 of 2 |');
    expect(text).toContain('on average over these seeds the target holds on amazon and not on imdb');
    expect(text).toContain('moves by up to 1.6 points on one split');
  });
});
