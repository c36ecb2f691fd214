import { describe, expect, it } from 'vitest';
import { COINS } from '../../../scripts/eval-real/coins';
import { qualityMarkdown, type SeedSpread, type SentenceSplit, type SpreadResult } from '../../../scripts/eval-real/report';

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

  it('shows every text model as mean ± standard deviation over seeds under both protocols, and the default against its bars', () => {
    const spread: SpreadResult = {
      k: 10,
      vader: { amazon: 0.829, imdb: 0.79 },
      afinn: { amazon: 0.807, imdb: 0.775 },
      models: {
        fasttext: { title: 'fastText', spec: { architecture: 'fasttext', dim: 32 }, loso: { amazon: [0.77, 0.77], imdb: [0.72, 0.72] }, losoSeeds: [1, 2] },
        nbsvm: {
          title: 'NB-SVM',
          spec: { architecture: 'nbsvm' },
          loso: { amazon: [0.79, 0.81], imdb: [0.7, 0.72] },
          folds: { amazon: [0.83, 0.84], imdb: [0.80, 0.79] },
          losoSeeds: [1, 2],
          foldSeeds: [1, 2],
          foldSeconds: 600,
        },
      },
    };
    const text = qualityMarkdown({ sentences: { sources: [], splits: [split('amazon', 0.881, 0.829)], settings: {}, ...run, spread } });
    expect(text).toContain('| NB-SVM (defaults) | 80.0 ± 1.4 | 71.0 ± 1.4 | 83.5 ± 0.7 | 79.5 ± 0.7 |');
    expect(text).toContain('| fastText (dim 32) | 77.0 ± 0.0 | 72.0 ± 0.0 | not run | not run |');
    spread.models.fasttext!.folds = { amazon: [0.835], imdb: [0.785] };
    expect(qualityMarkdown({ sentences: { sources: [], splits: [], settings: {}, ...run, spread } })).toContain('| fastText (dim 32) | 77.0 ± 0.0 | 72.0 ± 0.0 | 83.5 (one seed) | 78.5 (one seed) |');
    expect(text).toContain('| VADER | 82.9 | 79.0 | 82.9 | 79.0 |');
    expect(text).toContain('10-fold: seeds 1, 2, 10.0 min');
    // 79.5 % on imdb misses the 80 % bar; imdb leave-one-source-out is a point behind fastText.
    expect(text).toContain("Issue #28's bars for the text task's default (any label set), NB-SVM (defaults): ≥ 80 % 10-fold on each source (mean over seeds 1, 2) — **not reached** (amazon 83.5, imdb 79.5)");
    expect(text).toContain('against fastText (mean over seeds 1, 2): **worse** on imdb (amazon +3.0, imdb -1.0 points)');
    // The sentiment preset's default is held to the same bars, against every other model.
    spread.models['lexicon-fasttext'] = { title: 'lexicon-aware fastText', spec: { architecture: 'lexicon-fasttext' }, loso: { amazon: [0.88], imdb: [0.82] }, folds: { amazon: [0.9], imdb: [0.84] }, losoSeeds: [1], foldSeeds: [1] };
    const both = qualityMarkdown({ sentences: { sources: [], splits: [], settings: {}, ...run, spread } });
    expect(both).toContain(
      "Issue #28's bars for the sentiment preset's default, lexicon-aware fastText (defaults): ≥ 80 % 10-fold on each source (mean over seeds 1) — **reached** (amazon 90.0, imdb 84.0). Leave one source out (its mean over seeds), against fastText (mean over seeds 1, 2): **no worse** on every held-out source (amazon +11.0, imdb +10.0 points); NB-SVM (mean over seeds 1, 2): **no worse** on every held-out source (amazon +8.0, imdb +11.0 points).",
    );
  });
});

describe('docs/quality.md, Fashion-MNIST transfer', () => {
  it('reports scratch against the version per shot count as mean ± standard deviation, and the 10-point target', () => {
    const options = { pretrainClasses: [0, 1, 2, 3, 4], inputSize: 32, pretrainImages: 100, pretrainEpochs: 1, shots: [10, 50], epochs: { 10: 5, 50: 2 }, batchSize: 16, learningRate: 0.001, seeds: [1, 2], testLimit: 500 };
    const transfer = {
      options,
      pretrainClasses: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat'],
      targetClasses: ['Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
      pretrainAccuracy: 0.8,
      pretrainSeconds: 60,
      testCount: 500,
      runs: [
        { shots: 10, seed: 1, scratch: 0.3, fineTuned: 0.42 },
        { shots: 10, seed: 2, scratch: 0.32, fineTuned: 0.4 },
        { shots: 50, seed: 1, scratch: 0.5, fineTuned: 0.55 },
        { shots: 50, seed: 2, scratch: 0.5, fineTuned: 0.57 },
      ],
      seconds: 120,
      ...run,
    };
    const text = qualityMarkdown({ transfer });
    expect(text).toContain('| 10 | 31.0 ± 1.4 | 41.0 ± 1.4 | 10.0 ± 2.8 |');
    expect(text).toContain('| 50 | 50.0 ± 0.0 | 56.0 ± 1.4 | 6.0 ± 1.4 |');
    expect(text).toContain('≥ 10 points at 10 per class (mean over seeds): **reached** (+10.0 points)');
    transfer.runs[1]!.fineTuned = 0.38;
    expect(qualityMarkdown({ transfer })).toContain('**not reached** (+9.0 points)');
  });

  it('with recomputed BatchNorm statistics, also reports the same models scored with the statistics kept in training', () => {
    const options = { pretrainClasses: [0, 1, 2, 3, 4], inputSize: 32, pretrainImages: 100, pretrainEpochs: 1, shots: [10], epochs: { 10: 5 }, batchSize: 16, learningRate: 0.001, seeds: [1, 2], testLimit: 500, recomputeBatchNorm: true };
    const transfer = {
      options,
      pretrainClasses: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat'],
      targetClasses: ['Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
      pretrainAccuracy: 0.8,
      pretrainAccuracyKept: 0.3,
      pretrainSeconds: 60,
      testCount: 500,
      runs: [
        { shots: 10, seed: 1, scratch: 0.4, fineTuned: 0.5, scratchKept: 0.2, fineTunedKept: 0.22 },
        { shots: 10, seed: 2, scratch: 0.42, fineTuned: 0.52, scratchKept: 0.24, fineTunedKept: 0.26 },
      ],
      seconds: 120,
      backend: 'tfjs wasm',
      machine: 'test machine',
      ranAt: '2026-01-01T00:00:00.000Z',
    };
    const text = qualityMarkdown({ transfer });
    expect(text).toContain('| 10 | 41.0 ± 1.4 | 51.0 ± 1.4 | 10.0 ± 0.0 |');
    expect(text).toContain('(before the recompute): 10 per class — from scratch 22.0 ± 2.8, from the version 24.0 ± 2.8; the version on its own classes 30.0 % (80.0 % recomputed).');
    expect(text).toContain('is a setting of image runs, off by default (`recomputeBatchNorm`');
  });
});

describe('docs/quality.md, the demo coins', () => {
  const options = { ...COINS, seeds: [1, 2, 3] };
  const at = (mae: number, r2: number) => ({ mae, rmse: mae + 10, r2 });
  const coins = {
    options,
    counts: { train: 240, val: 30, test: 30, firstTrain: 119 },
    version: at(30, 0.4),
    versionSeconds: 60,
    runs: [
      { seed: 1, scratch: at(24, 0.5), fromVersion: at(20, 0.6), head: true },
      { seed: 2, scratch: at(26, 0.45), fromVersion: at(21, 0.62), head: true },
      { seed: 3, scratch: at(22, 0.55), fromVersion: at(23, 0.5), head: true },
    ],
    seconds: 900,
    backend: 'tfjs wasm',
    machine: 'test machine',
    ranAt: '2026-01-01T00:00:00.000Z',
    commit: 'abc1234',
  };

  it('says the comparison was not run until it is', () => {
    expect(qualityMarkdown({})).toContain("The demo coins' comparison (a coin model warm-started from another registered version against one from scratch, same budget) was not run in this round");
  });

  it('reports MAE and R² as mean ± sd over the seeds and per seed, says the coins are synthetic, and which start won per seed', () => {
    const text = qualityMarkdown({ coins });
    expect(text).toContain('**The coins are synthetic**');
    expect(text).toContain('| version 1 (119 training coins, one run, seed 42) | 30.0 | 40.0 | 0.400 |');
    expect(text).toContain('| new version, from scratch | 24.0 ± 2.0 | 34.0 ± 2.0 | 0.500 ± 0.050 |');
    expect(text).toContain('| new version, from version 1 | 21.3 ± 1.5 | 31.3 ± 1.5 | 0.573 ± 0.064 |');
    expect(text).toContain('| from version 1 − from scratch | -2.7 ± 3.2 | -2.7 ± 3.2 | +0.073 ± 0.112 |');
    expect(text).toContain('lower than from scratch in 2 of 3 seeds');
    expect(text).toContain('seed 3: 22.0 / 23.0, 0.550 / 0.500');
    expect(text).toContain('backbone and head, since task and targets match');
    expect(text).toContain('code at abc1234');
    expect(text).not.toContain('was not run in this round');
    expect(text).not.toContain('after recomputing their BatchNorm statistics');
    expect(text).not.toContain('Tried before');
  });

  it('adds the same models with recomputed BatchNorm statistics, and the settings tried before', () => {
    const runs = coins.runs.map((r) => ({ ...r, scratchRecomputed: at(r.scratch.mae - 4, 0.7), fromVersionRecomputed: at(r.fromVersion.mae - 2, 0.72) }));
    const earlier = [{ options: { ...options, learningRate: 0.001, epochs: 10 }, counts: coins.counts, version: at(52.8, -3.77), runs: coins.runs, machine: 'old machine', ranAt: '2025-12-31T00:00:00.000Z', commit: 'def5678' }];
    const text = qualityMarkdown({ coins: { ...coins, runs, versionRecomputed: at(28, 0.5), earlier } });
    expect(text).toContain('MAE from scratch 20.0 ± 2.0, from version 1 19.3 ± 1.5 years; R² 0.700 ± 0.000 and 0.720 ± 0.000; version 1 28.0 years, R² 0.500.');
    expect(text).toContain('Tried before with other settings (old machine, finished 2025-12-31T00:00:00.000Z, code at def5678)');
    expect(text).toContain('Adam 0.001, 10 epochs, seeds 1, 2, 3 — MAE from scratch 24.0 ± 2.0, from version 1 21.3 ± 1.5 years');
    expect(text).toContain('version 1 52.8 years, R² -3.770.');
  });
});
