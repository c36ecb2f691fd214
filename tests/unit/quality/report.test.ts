import { describe, expect, it } from 'vitest';
import { qualityMarkdown, type SentenceSplit } from '../../../scripts/eval-real/report';

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
const markdown = (splits: SentenceSplit[]) =>
  qualityMarkdown({ sentences: { sources: [], splits, settings: {}, backend: 'wasm', machine: 'test', ranAt: '2026-11-23' } });

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
});
