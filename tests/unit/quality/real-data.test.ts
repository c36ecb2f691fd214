/**
 * A shortened `npm run eval:real` (issue #15) on real data no one here wrote: the importers read every
 * record of Fashion-MNIST (Debian's dataset-fashion-mnist, installed by .ci/run) and of the UCI Sentiment
 * Labelled Sentences (the `sentiment` package's fixtures); a small CNN, fastText and the lexicon-aware
 * fastText, trained briefly by Loupe's loop on subsets, score clearly above chance on held-out real data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES, parseIdxUpload } from '../../../src/lib/datasets/idx';
import { startBackend } from '../../../scripts/eval-real/backend';
import { evaluateFashion, FASHION_DIR, FULL_FASHION, readFashion } from '../../../scripts/eval-real/fashion';
import { evaluateSentences, readSentences, SENTENCE_SETTINGS } from '../../../scripts/eval-real/sentences';

// CI installs the package; elsewhere the Fashion-MNIST tests say why they skip rather than fail.
const fashionInstalled = existsSync(join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'));
const runFashion = fashionInstalled || Boolean(process.env.CI);
if (!runFashion) console.warn(`quality tests: ${FASHION_DIR} is missing (apt-get install dataset-fashion-mnist): Fashion-MNIST tests skipped`);

const histogram = (labels: ArrayLike<number>) => Array.from(labels).reduce<number[]>((h, l) => ((h[l] = (h[l] ?? 0) + 1), h), []);

beforeAll(async () => {
  await startBackend('wasm');
});

describe.runIf(runFashion)('Fashion-MNIST', () => {
  it('the IDX reader reads all 70,000 records: 28×28, 10 balanced classes', () => {
    const { train, test } = readFashion();
    expect([train.count, train.rows, train.cols, test.count]).toEqual([60_000, 28, 28, 10_000]);
    expect(histogram(train.labels)).toEqual(new Array(10).fill(6_000));
    expect(histogram(test.labels)).toEqual(new Array(10).fill(1_000));
  });

  it('the upload importer turns every test record into a labelled grey image', async () => {
    const file = (name: string) => ({ path: `fashion/${name}`, file: new Blob([readFileSync(join(FASHION_DIR, name))]) });
    const result = await parseIdxUpload([file('t10k-images-idx3-ubyte.gz'), file('t10k-labels-idx1-ubyte.gz'), { path: 'fashion/classes.txt', file: new Blob([FASHION_MNIST_CLASSES.join('\n')]) }]);
    expect(result.candidates).toHaveLength(10_000);
    expect(result.skipped).toEqual([]);
    expect(result.labels).toEqual([...FASHION_MNIST_CLASSES]);
    expect(result.candidates.every((c) => c.split === 'test')).toBe(true);
    expect(new Set(result.candidates.map((c) => c.label)).size).toBe(10);
  }, 60_000);

  it('a small CNN trained 2 epochs on 3,000 images scores far above chance (10 %) on 1,000 test images', async () => {
    const result = await evaluateFashion(readFashion(), { ...FULL_FASHION, trainLimit: 3_000, testLimit: 1_000, epochs: 2, filters: [8, 16], dense: 32, dropout: 0.1 });
    expect(result.testCount).toBe(1_000);
    expect(result.metrics.accuracy).toBeGreaterThan(0.6);
    expect(result.metrics.macroF1).toBeGreaterThan(0.5);
    expect(result.metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(1_000);
  }, 120_000);
});

describe('UCI Sentiment Labelled Sentences', () => {
  it('the {text, class} importer reads every record of the three sources and drops only the empty one', async () => {
    const sources = await readSentences();
    expect(sources.map((s) => [s.name, s.records, s.candidates.length])).toEqual([
      ['amazon', 1001, 1000],
      ['imdb', 1001, 1000],
      ['yelp', 1001, 1000],
    ]);
    for (const s of sources) {
      expect(s.labels).toEqual(['negative', 'positive']);
      expect(s.dropped).toEqual([{ item: `${s.name}.json item 1001`, reason: expect.stringMatching(/empty text/) }]);
      expect(s.candidates.filter((c) => c.label === 'positive')).toHaveLength(500);
    }
  });

  it('fastText, the lexicon-aware model and NB-SVM trained on amazon + yelp score far above chance on imdb, beside AFINN and VADER on the same sentences', async () => {
    const settings = {
      ...SENTENCE_SETTINGS,
      spec: { architecture: 'fasttext' as const, dim: 16, buckets: 1 << 14 },
      // One candidate: no selection on the training sources (the full run's grid takes minutes).
      lexiconCandidates: [{ architecture: 'lexicon-fasttext' as const, dim: 16, buckets: 1 << 14, ngramDropout: 0.8 }],
      epochs: 5,
    };
    const { splits } = await evaluateSentences(await readSentences(), settings, ['imdb']);
    expect(splits).toHaveLength(1);
    const [imdb] = splits;
    expect(imdb).toMatchObject({ test: 'imdb', train: ['amazon', 'yelp'], trainCount: 2_000, testCount: 1_000 });
    expect(imdb!.fastText.accuracy).toBeGreaterThan(0.62);
    // The lexicons carry it past fastText, which knows only the 2,000 training sentences.
    expect(imdb!.lexicon!.accuracy).toBeGreaterThan(imdb!.fastText.accuracy + 0.05);
    expect(imdb!.lexicon!.accuracy).toBeGreaterThan(0.78); // 0.809 on wasm, seed 42
    expect(imdb!.lexiconSelection).toEqual([]);
    // NB-SVM (ratios fitted on amazon + yelp only) is far above chance too.
    expect(imdb!.nbsvm!.accuracy).toBeGreaterThan(0.66);
    // The lexicons are deterministic: their scores on imdb are fixed figures.
    expect(imdb!.vader.accuracy).toBeCloseTo(0.79, 2);
    expect(imdb!.afinn.accuracy).toBeCloseTo(0.775, 2);
  }, 120_000);
});
