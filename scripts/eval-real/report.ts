import { DEFAULT_FASTTEXT } from '../../models/text/fasttext';
import { LEXICON_FEATURE_COUNT, LEXICON_FEATURE_NAMES, LEXICON_FEATURES_VERSION } from '../../src/lib/text/lexicon/features';
import type { FashionOptions, FashionPublished, FashionResult } from './fashion';
import type { CoinScores, CoinsResult } from './coins';
import type { FineTuneSchedule } from '../../src/lib/db/specs';
import type { TransferResult } from './transfer';

/** One leave-one-source-out split's scores (accuracy and macro-F1 on the held-out source). */
export interface SplitScores {
  accuracy: number;
  macroF1: number;
}

export interface SentenceSplit {
  train: string[];
  test: string;
  trainCount: number;
  testCount: number;
  fastText: SplitScores;
  /** The lexicon-aware model (`lexicon-fasttext`) with the settings chosen on the training sources. */
  lexicon?: SplitScores;
  lexiconSpec?: Record<string, unknown>;
  lexiconSelection?: LexiconSelection[];
  /** NB-SVM (`nbsvm`) with the settings chosen on the UCI sentences (see the spread section). */
  nbsvm?: SplitScores;
  nbsvmSpec?: Record<string, unknown>;
  nbsvmSeconds?: number;
  vader: SplitScores;
  afinn: SplitScores;
  trainSeconds: number;
  lexiconSeconds?: number;
  selectionSeconds?: number;
}

/** One candidate setting's validation accuracies on the training sources (`fit→check`) and their mean. */
export interface LexiconSelection {
  spec: Record<string, unknown>;
  validation: Record<string, number>;
  mean: number;
}

/** The lexicon-aware model under several seeds with fixed settings (`lexiconSeedSpread`). */
export interface SeedSpread {
  spec: Record<string, unknown>;
  /** Held-out source → its number of test sentences. */
  testCounts: Record<string, number>;
  /** Held-out source → VADER's accuracy (no seed). */
  vader: Record<string, number>;
  runs: { seed: number; accuracy: Record<string, number> }[];
}

/** One text model under several seeds: source → accuracy per seed, by protocol (`spreadOf`). */
export interface ModelSpread {
  title: string;
  spec: Record<string, unknown>;
  /** Leave one source out: held-out source → accuracy per seed. */
  loso?: Record<string, number[]>;
  /** k-fold within each source: source → pooled accuracy per seed. */
  folds?: Record<string, number[]>;
  losoSeeds?: number[];
  foldSeeds?: number[];
  losoSeconds?: number;
  foldSeconds?: number;
  /** Machine and time of each protocol's run. */
  losoRun?: string;
  foldRun?: string;
}

/** Every text model under several seeds, leave one source out and k-fold within each source, beside the lexicons. */
export interface SpreadResult {
  k: number;
  /** Source → accuracy over all its sentences (the lexicons are not trained: any split pools to this). */
  vader: Record<string, number>;
  afinn: Record<string, number>;
  models: Record<string, ModelSpread>;
}

export interface SentencesResult {
  /** Records read per source, and records dropped (empty text or no class) with the reason. */
  sources: { name: string; records: number; kept: number; dropped: { item: string; reason: string }[] }[];
  splits: SentenceSplit[];
  settings: Record<string, unknown>;
  lexiconCandidates?: Record<string, unknown>[];
  seedSpread?: SeedSpread & RunInfo;
  spread?: SpreadResult;
  /** How NB-SVM's settings were chosen (`nbsvmGrid`). */
  nbsvmGrid?: { candidates: { spec: Record<string, unknown>; accuracy: Record<string, number>; mean: number }[]; chosen: Record<string, unknown>; seconds: number; k: number; foldSeed: number; run: string };
}

interface RunInfo {
  backend: string;
  machine: string;
  ranAt: string;
}

/** What `npm run eval:real` keeps in docs/quality.json. */
export interface QualityReport {
  fashion?: FashionResult & RunInfo & { options: Omit<FashionOptions, 'onEpoch'>; readSeconds: number; published: FashionPublished };
  sentences?: SentencesResult & RunInfo;
  transfer?: TransferResult & RunInfo & { earlier?: EarlierTransfer[] };
  /** `commit`: the code the figures came from (`git describe`); `earlier`: runs of other settings. */
  coins?: CoinsResult & RunInfo & { commit?: string; earlier?: EarlierCoins[] };
}

/** A demo-coins run with other settings, kept to show what was tried. */
export type EarlierCoins = Pick<CoinsResult, 'options' | 'counts' | 'version' | 'runs'> & Omit<RunInfo, 'backend'> & { commit?: string };

/** A transfer run with other settings, kept to show what was tried. */
export type EarlierTransfer = Pick<TransferResult, 'options' | 'pretrainAccuracy' | 'testCount' | 'runs'> & Omit<RunInfo, 'backend'>;

const pct = (x: number) => (100 * x).toFixed(1);
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function fashionSection(f: NonNullable<QualityReport['fashion']>): string[] {
  const target = f.metrics.accuracy >= 0.9;
  const comparable = f.published.submitted.filter((s) => /^2 Conv\+pooling$/i.test(s.classifier)).sort((a, b) => b.accuracy - a.accuracy)[0];
  const best = [...f.published.submitted].sort((a, b) => b.accuracy - a.accuracy)[0];
  const minutes = (f.trainSeconds / 60).toFixed(1);
  const labels = f.metrics.perClass.map((c) => c.label);
  return [
    '## Fashion-MNIST (Zalando, MIT)',
    '',
    `Data: Debian's \`dataset-fashion-mnist\`, read by Loupe's IDX importer (\`src/lib/datasets/idx.ts\`): ${f.trainCount.toLocaleString('en')} training and ${f.testCount.toLocaleString('en')} test images, 28×28 grey, 10 classes. Trained on all training images, scored once on all test images after the last epoch (nothing was selected on the test set). The pixels go through the task's own input step (\`smallCnnInput\`: grey → 1 channel in [0, 1], seeded flips) straight from the IDX arrays; the studio stores each image as a grey PNG and decodes it before the same step, which the evaluation skips to save 60,000 decodes per epoch.`,
    '',
    `Model: the image-classification task's \`small-cnn\` (\`models/small-cnn.ts\`): 1 grey input channel, conv 3×3 ${JSON.stringify(f.options.filters)} each with ReLU and 2×2 max pooling, dense ${f.options.dense}, dropout ${f.options.dropout}; ${f.parameters.toLocaleString('en')} parameters. Trained by Loupe's own loop (\`trainLoop\`): Adam ${f.options.learningRate}, batch ${f.options.batchSize}, ${f.options.epochs} epochs, augmentation \`${f.options.augmentation}\`, seed ${f.options.seed}.`,
    '',
    '| metric | Loupe small CNN | target |',
    '|---|---:|---:|',
    row(['test accuracy', f.metrics.accuracy.toFixed(4), `≥ 0.90 — ${target ? '**reached**' : '**not reached**'}`]),
    row(['test macro-F1', f.metrics.macroF1.toFixed(4), '']),
    row(['training time', `${f.trainSeconds.toFixed(0)} s (${minutes} min)`, '']),
    row(['backend', f.backend, '']),
    '',
    `Per epoch (training loss, seconds): ${f.epochs.map((e) => `${e.epoch}: ${e.loss.toFixed(3)}, ${e.seconds.toFixed(0)} s`).join('; ')}.`,
    '',
    ...(target
      ? []
      : [
          `**The target is not reached.** What limits it here: ${f.options.epochs} epochs of a small CNN, the most the shared 2-core machine allowed in the time of the run (${minutes} minutes of training); the loss was still falling, and the 2-conv networks in the README's table (0.90–0.92) are trained for longer.`,
          '',
        ]),
    '### Baselines',
    '',
    `\`baselines.json\` in the package is the scikit-learn benchmark runner's **parameter grid** — ${f.published.baselines.length} classifiers, ${f.published.baselines.reduce((n, b) => n + b.settings, 0)} settings (${f.published.baselines.map((b) => b.classifier).join(', ')}) — and ${f.published.baselinesHaveScores ? 'carries scores' : '**carries no scores**'}, so no accuracy can be read from it. The scikit-learn results themselves are published only on the benchmark's website (not in the package, not reachable offline); the figure widely quoted from it as the best scikit-learn result is SVC (C=10, RBF kernel) at 0.897 — quoted, not re-measured here.`,
    '',
    `The package's README does ship a table of ${f.published.submitted.length} submitted results (not verified by Zalando). The closest architecture to ours there is ${comparable ? `"${comparable.classifier}" at ${comparable.accuracy}` : 'absent'}; the best entry is ${best ? `"${best.classifier}" at ${best.accuracy}` : 'absent'}.`,
    '',
    '| model | test accuracy |',
    '|---|---:|',
    row(['Loupe small CNN (this run)', f.metrics.accuracy.toFixed(3)]),
    row(['scikit-learn SVC, C=10, RBF (best scikit-learn, quoted)', '0.897']),
    ...(comparable ? [row([`${comparable.classifier} (README, submitted)`, comparable.accuracy.toFixed(3)])] : []),
    ...(best ? [row([`${best.classifier} (README, best submitted)`, best.accuracy.toFixed(3)])] : []),
    '',
    '### Per class and confusion matrix (rows: true class, columns: predicted)',
    '',
    '| class | precision | recall | F1 | support |',
    '|---|---:|---:|---:|---:|',
    ...f.metrics.perClass.map((c) => row([c.label, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), c.support])),
    '',
    row(['true \\ predicted', ...labels.map((_, i) => String(i))]),
    row(['---', ...labels.map(() => '---:')]),
    ...f.metrics.confusion.map((counts, i) => row([`${i} ${labels[i]}`, ...counts])),
    '',
  ];
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
const specText = (spec: Record<string, unknown>) =>
  Object.entries(spec)
    .filter(([k]) => k !== 'architecture')
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
    .join(', ');

function sentencesSection(s: NonNullable<QualityReport['sentences']>): string[] {
  const splits = s.splits;
  const header = ['model', ...splits.map((x) => `${x.test} (train: ${x.train.join(' + ')})`)];
  const align = ['---', ...splits.map(() => '---:')];
  const cell = (scores: SplitScores | undefined) => (scores ? `${pct(scores.accuracy)} (${pct(scores.macroF1)})` : 'not run');
  const lexiconDelta = (x: SentenceSplit) => (x.lexicon ? marginOver(x.vader.accuracy, x.lexicon.accuracy, x.testCount) : undefined);
  const lines = [
    '## UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015, CC BY 4.0)',
    '',
    `Data: the npm package \`sentiment\`'s test fixtures, read by Loupe's \`{text, class}\` JSON importer (\`parseSentimentUpload\`): ${s.sources.map((x) => `${x.name} ${x.records} records, ${x.kept} kept (${x.dropped.map((d) => `${d.item}: ${d.reason}`).join('; ') || 'none dropped'})`).join('; ')}. Class 0 is negative, 1 positive.`,
    '',
    `Protocol: leave one source out — train each Loupe model on the other two sources (${splits[0]?.trainCount ?? 2000} sentences), test on the held-out one (${splits[0]?.testCount ?? 1000}). AFINN (\`sentiment\`, comparative score > 0 → positive, else negative) and VADER (\`vader-sentiment\`, compound ≥ 0.05 → positive — its authors' threshold — else negative) score exactly the same test sentences. Issue #15's target: the Loupe text model beats VADER by ≥ 3 accuracy points on each split.`,
    '',
    `- **fastText** (\`fasttext\`): ${Object.entries({ ...DEFAULT_FASTTEXT, ...s.settings }).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')} (Adam; the task's tweet preprocessing and hashed word/bigram/character n-gram features; the task's defaults).`,
    `- **lexicon-aware fastText** (\`lexicon-fasttext\`, \`models/text/lexicon-fasttext.ts\`): the same n-gram average concatenated with ${LEXICON_FEATURE_COUNT} lexicon features of the text (\`src/lib/text/lexicon/features.ts\`, version ${LEXICON_FEATURES_VERSION}: ${LEXICON_FEATURE_NAMES.join(', ')}) — VADER and AFINN scores, Bing Liu's opinion-word counts, and valences induced from GloVe word vectors for the 50,000 most frequent English words (a ridge regression from the vectors onto the VADER and Bing Liu ratings, \`npm run lexicon:induce\`), so a review word no lexicon rates ("tasty", "soggy") still carries polarity — then one softmax layer, so the model learns how much to trust the lexicons against the n-grams and sets its own threshold. *N-gram dropout* hides the whole n-gram vector of that share of training examples, so the classifier also learns to decide from the lexicons alone instead of leaning on n-grams that memorise 2,000 sentences. Same optimiser, epochs, batch and seed as fastText.`,
    '',
    'Accuracy in % (macro-F1 in parentheses):',
    '',
    row(header),
    row(align),
    row(['fastText', ...splits.map((x) => cell(x.fastText))]),
    row(['lexicon-aware fastText', ...splits.map((x) => cell(x.lexicon))]),
    ...(splits.some((x) => x.nbsvm) ? [row([`NB-SVM (${specText(splits.find((x) => x.nbsvmSpec)?.nbsvmSpec ?? {}) || 'defaults'})`, ...splits.map((x) => cell(x.nbsvm))])] : []),
    row(['VADER', ...splits.map((x) => cell(x.vader))]),
    row(['AFINN', ...splits.map((x) => cell(x.afinn))]),
    row(['lexicon-aware − VADER (points)', ...splits.map((x) => (lexiconDelta(x) === undefined ? 'not run' : signed(lexiconDelta(x)!)))]),
    row(['fastText − VADER (points)', ...splits.map((x) => signed(100 * (x.fastText.accuracy - x.vader.accuracy)))]),
    row(['target: lexicon-aware ≥ VADER + 3', ...splits.map((x) => (lexiconDelta(x) === undefined ? 'not run' : lexiconDelta(x)! >= 3 ? '**reached**' : '**not reached**'))]),
    row(['training time (fastText / lexicon-aware / NB-SVM)', ...splits.map((x) => `${x.trainSeconds.toFixed(0)} s / ${x.lexiconSeconds?.toFixed(0) ?? '–'} s / ${x.nbsvmSeconds?.toFixed(0) ?? '–'} s`)]),
    '',
  ];
  const selected = splits.filter((x) => x.lexiconSelection?.length);
  if (selected.length > 0) {
    const candidates = selected[0]!.lexiconSelection!;
    lines.push(
      '### How the lexicon-aware model\'s settings were chosen',
      '',
      `For each split, only from its two training sources: every candidate was trained on one training source and validated on the other, both ways, and the best mean validation accuracy was kept (the held-out source was not looked at). Candidates: ${candidates.map((c) => specText(c.spec)).join('; ')}; everything else at the defaults above. Selection took ${selected.map((x) => `${x.selectionSeconds?.toFixed(0)} s (${x.test})`).join(', ')}.`,
      '',
      row(['split', ...candidates.map((c) => specText(c.spec)), 'chosen']),
      row(['---', ...candidates.map(() => '---:'), '---']),
      ...selected.map((x) =>
        row([
          `${x.test} (validated ${Object.keys(x.lexiconSelection![0]!.validation).join(', ')})`,
          ...x.lexiconSelection!.map((c) => `${pct(c.mean)} (${Object.values(c.validation).map(pct).join(' / ')})`),
          specText(x.lexiconSpec ?? {}),
        ]),
      ),
      '',
      'Validation accuracy in %: the mean, then each direction.',
      '',
    );
  }
  const missed = splits.filter((x) => (lexiconDelta(x) ?? -Infinity) < 3);
  const reached = splits.filter((x) => !missed.includes(x));
  if (missed.length === 0) {
    const margins = splits.map((x) => ({ test: x.test, sentences: Math.round(((lexiconDelta(x)! - 3) / 100) * x.testCount) }));
    lines.push(
      `**The target is reached** on every split: the lexicon-aware model beats VADER by at least 3 accuracy points on each held-out source. Margins above the target, in test sentences: ${margins.map((m) => `${m.test} ${m.sentences}`).join(', ')}${margins.some((m) => m.sentences <= 2) ? ' — narrow where it is 0–2 sentences: one run with one seed, and a few sentences either way move a split across the line' : ''}.`,
      '',
    );
  } else {
    lines.push(
      `**The target is ${reached.length > 0 ? `reached on ${reached.map((x) => x.test).join(', ')} and not` : 'not'} reached on ${missed.map((x) => x.test).join(', ')}** (lexicon-aware − VADER: ${missed.map((x) => `${x.test} ${lexiconDelta(x) === undefined ? 'not run' : signed(lexiconDelta(x)!)}`).join(', ')} points). What limits it: the model starts from VADER's and AFINN's own judgements, so it gains over VADER only where the 2,000 training sentences of two *other* domains teach something that transfers — how far to trust each lexicon, sentences the lexicons have no word for, "but"/negation/"!" patterns, and n-grams shared across domains (e.g. "waste", "recommend", "disappointed"). Domain words of the held-out source (film vocabulary for imdb, food for yelp) were never seen with a label; the induced valences reach them only as far as GloVe's neighbourhoods carry polarity, and they are noisy ("gripping" comes out negative, next to "grip" and "grim"). Plain fastText, which learns every word from those 2,000 sentences, trails VADER on every split; tuning its size did not close that gap (buckets 2¹⁴–2¹⁶, dimension 16–32, with and without character n-grams: 0.68–0.77 on the three splits against VADER's 0.79–0.83).`,
      '',
    );
  }
  if (s.seedSpread) lines.push(...seedSpreadSection(s.seedSpread));
  if (s.nbsvmGrid) lines.push(...nbsvmGridSection(s.nbsvmGrid));
  if (s.spread) lines.push(...spreadSection(s.spread, splits));
  lines.push(
    'How version 2 of the features was chosen (stop 19): a plain logistic regression on the lexicon features alone (a throwaway script, not in the repository), trained on one source and validated on another, mean over all six directions: version-1 features 81.7 %; with Bing Liu\'s opinion words 84.4; with opinion words and GloVe-induced valences 85.1 (kept); with the 100-dimensional mean GloVe vector of the sentence as well 84.2 (not kept: it overfits 1,000 sentences). Variants of the induction — penalty 1, 10 or 100, AFINN among the ratings or not, 50,000 or 100,000 words, valences used for unrated words only — all landed within 84.8–85.2, so the simplest licensing (no AFINN in the table) and the smaller table were kept. Every source served as validation in some direction of this choice; the three held-out tests ran once, afterwards, through `npm run eval:real`.',
    '',
    'Also measured while building version 1 (validation on the training sources only, amazon → yelp and yelp → amazon, n-gram dropout 0.5 and 0.8): lexicon-initialised embeddings — each rated word\'s n-gram embedding starting with its AFINN valence in one dimension, so words unseen in training keep their polarity — changed validation accuracy by at most 0.1 point (the valence is diluted in the average over a sentence\'s ~100 word, bigram and character n-gram features), so the option was not kept. The 5 sentence-shape features (but, negation, "!", "?", length) added about 0.5 point to a lexicon-only logistic regression on the same validation pairs. With n-gram dropout 0.8 on the same pairs (mean validation 84.5 % as chosen), neither less n-gram capacity (no character n-grams 84.2, dimension 16 84.4, words without bigrams 84.7) nor a 16-unit ReLU layer before the softmax (84.2) changed the mean by more than 0.3 point, so the model stays linear with fastText\'s defaults (these capacity checks ran after the run reported here, and changed nothing in it). These design decisions were made on amazon ↔ yelp, which are training sources only for the imdb split (for the other two splits one of them is the held-out source); one development run with the first 10 features also printed imdb\'s test accuracy (80.0). Nothing else was looked at on a test source.',
    '',
  );
  return lines;
}

/** Lexicon-aware − VADER in points, from whole test sentences: 0.82 − 0.79 is 2.9999… in floating point, yet 30 of 1,000 are 3.0. */
function marginOver(vader: number, accuracy: number, count: number): number {
  return (100 * Math.round((accuracy - vader) * count)) / count;
}

function seedSpreadSection(spread: SeedSpread & RunInfo): string[] {
  const sources = Object.keys(spread.vader);
  const margins = sources.map((source) => spread.runs.map((r) => marginOver(spread.vader[source]!, r.accuracy[source]!, spread.testCounts[source]!)));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const holds = sources.filter((_, i) => mean(margins[i]!) >= 3);
  const widest = Math.max(...margins.map((m) => Math.max(...m) - Math.min(...m)));
  return [
    '### How much the seed moves it',
    '',
    `The same splits with the settings fixed at ${specText(spread.spec)} (no selection) under seeds ${spread.runs.map((r) => r.seed).join(', ')} (initialisation, dropout and shuffling; ${spread.machine}, finished ${spread.ranAt}). Lexicon-aware − VADER in points:`,
    '',
    row(['seed', ...sources]),
    row(['---', ...sources.map(() => '---:')]),
    ...spread.runs.map((r, j) => row([r.seed, ...margins.map((m) => signed(m[j]!))])),
    row(['mean', ...margins.map((m) => signed(mean(m)))]),
    row(['seeds at ≥ +3', ...margins.map((m) => `${m.filter((x) => x >= 3).length} of ${m.length}`)]),
    '',
    `From seed to seed the margin moves by up to ${widest.toFixed(1)} points on one split, so a single run's +3 is not a guarantee: on average over these seeds the target holds on ${holds.length > 0 ? holds.join(', ') : 'no split'}${holds.length < sources.length ? ` and not on ${sources.filter((x) => !holds.includes(x)).join(', ')}` : ''}. The lexicon features are the same in every run; what the seed changes is the initial weights, which examples' n-gram vectors are dropped (80 %) and the order of the 2,000 training sentences.`,
    '',
  ];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (0 for one value). */
const sd = (xs: readonly number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const meanSd = (xs: readonly number[] | undefined) => (!xs?.length ? 'not run' : xs.length === 1 ? `${pct(xs[0]!)} (one seed)` : `${pct(mean(xs))} ± ${pct(sd(xs))}`);
const minutes = (seconds: number | undefined) => (seconds === undefined ? '–' : `${(seconds / 60).toFixed(1)} min`);

function nbsvmGridSection(grid: NonNullable<SentencesResult['nbsvmGrid']>): string[] {
  const sources = Object.keys(grid.candidates[0]?.accuracy ?? {});
  return [
    '### NB-SVM (`nbsvm`, `models/text/nbsvm.ts`) and how its settings were chosen',
    '',
    "Wang & Manning's NB-SVM (\"Baselines and Bigrams\", ACL 2012) with a logistic loss: each text's distinct words and word pairs, and since the second round below the character 3–5-grams of each word (the task's tweet preprocessing and fastText's tokens, hashed into 2¹⁸ buckets), each scaled by its log-count ratio — how much more often texts of one class have it than the other texts, with add-α smoothing (α = 1), one class against the rest, fitted on the training split only (`src/lib/text/nbsvm.ts`) — then a linear softmax layer trained in tfjs with an L2 penalty ‖w‖²/(2·C·n) and, at prediction, the paper's interpolation w′ = (1 − β)·w̄ + β·w towards naive Bayes.",
    '',
    `Its settings were chosen on the UCI sentences alone, by ${grid.k}-fold cross-validation within each source with the folds drawn by seed ${grid.foldSeed} — not the seeds 1, 2, 3 whose folds the table below reports, so the chosen setting is not scored on the very folds that chose it (it was chosen on the same 3,000 sentences, so its figures below are still slightly optimistic; VADER's and AFINN's are not). Pooled ${grid.k}-fold accuracy in % (${grid.run}; ${minutes(grid.seconds)}):`,
    '',
    row(['candidate', ...sources, 'mean']),
    row(['---', ...sources.map(() => '---:'), '---:']),
    ...grid.candidates.map((c) => row([`${specText(c.spec)}${JSON.stringify(c.spec) === JSON.stringify(grid.chosen) ? ' (chosen)' : ''}`, ...sources.map((x) => pct(c.accuracy[x]!)), pct(c.mean)])),
    '',
    ...NBSVM_SECOND_ROUND,
  ];
}

/**
 * Issue #28's second round for NB-SVM's features (C 10, β 1 fixed), screened with a throwaway script that is not
 * in the repository: the same features and recipe (Adam 0.02, batch 32, 10 epochs, penalty ‖w‖²/(2·C·n)) in
 * plain JavaScript, fast enough to try many variants; its baseline reproduced the tfjs model's figures within
 * 0.5 point. Chosen on 10-fold within each source with folds drawn by seed 99 (not the reported seeds).
 */
const NBSVM_SECOND_ROUND = [
  "Second round (issue #28: the 10-fold bar was missed on imdb by 0.2 point), features only, C 10 and β 1 fixed. The variants were screened with a throwaway script, not in the repository, that trains the same features with the same recipe in plain JavaScript (on the same leave-one-source-out splits its words-only baseline scored 80.0 / 73.6 / 79.1 against the tfjs model's 79.6 / 74.1 / 78.9 below); 10-fold within each source, folds drawn by seed 99, accuracy in %. Leave-one-source-out figures were printed alongside but not used to choose:",
  '',
  '| variant | 10-fold amazon | 10-fold imdb | 10-fold yelp | mean | LOSO mean |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  '| words and word pairs (as before) | 83.8 | 81.3 | 83.9 | 83.0 | 77.6 |',
  '| + word triples | 83.0 | 81.1 | 83.2 | 82.4 | 77.9 |',
  '| C 1 instead of 10 | 82.6 | 81.1 | 83.8 | 82.5 | 76.9 |',
  '| + character n-grams 3–5 of each word (chosen) | 85.9 | 81.7 | 84.2 | 83.9 | 77.4 |',
  '| + character n-grams 2–4 of each word | 85.1 | 82.1 | 84.9 | 84.0 | 77.4 |',
  '',
  "Character n-grams let an unseen form of a seen word carry its ratio, and gained on every source. Lengths 2–4 and 3–5 are 0.1 point apart on the mean; 3–5 was kept, fastText's lengths and the Train page's existing switch. NB-SVM's default is now words, word pairs and character n-grams 3–5 (`charNgrams: [3, 5]`, settable in the Train page, sweeps and the CLI); a model saved before reads words and word pairs only, as it was trained. Combining NB-SVM's features with the lexicon features in one linear model was started in the same screen but not finished in this round.",
  '',
];

/** The defaults held to issue #28's bars: the text task's (any label set) and the sentiment preset's. */
export const DEFAULT_TEXT_MODEL = 'nbsvm';
export const SENTIMENT_DEFAULT_MODEL = 'lexicon-fasttext';

function spreadSection(spread: SpreadResult, splits: SentenceSplit[] = []): string[] {
  const sources = Object.keys(spread.vader);
  const models = Object.entries(spread.models);
  const lines = [
    '### Every text model under several seeds: leave one source out and 10-fold within each source',
    '',
    `Accuracy in %, mean ± standard deviation over seeds (each seed sets the model's initialisation and the order of training sentences, and for ${spread.k}-fold also which sentences fall in which fold). *Leave one source out*: trained on the other two sources (2,000 sentences), tested on the named one. *${spread.k}-fold within a source*: the source's 1,000 sentences in ${spread.k} folds, each fold predicted by a model trained on the other ${spread.k - 1} folds (900 sentences of the same source), the ${spread.k} folds' predictions pooled into one accuracy. Every model trains with its task's recipe (Adam 0.02, batch 32, 10 epochs, no early stopping). VADER and AFINN are not trained: their figure is their accuracy on all of the source's sentences, the same under either protocol.`,
    '',
    row(['model', ...sources.map((x) => `LOSO ${x}`), ...sources.map((x) => `${spread.k}-fold ${x}`)]),
    row(['---', ...sources.map(() => '---:'), ...sources.map(() => '---:')]),
    ...models.map(([, m]) => row([`${m.title} (${specText(m.spec) || 'defaults'})`, ...sources.map((x) => meanSd(m.loso?.[x])), ...sources.map((x) => meanSd(m.folds?.[x]))])),
    row(['VADER', ...sources.map((x) => pct(spread.vader[x]!)), ...sources.map((x) => pct(spread.vader[x]!))]),
    row(['AFINN', ...sources.map((x) => pct(spread.afinn[x]!)), ...sources.map((x) => pct(spread.afinn[x]!))]),
    '',
    `Seeds and time of each part: ${models
      .map(([, m]) => `${m.title} — leave one source out: seeds ${m.losoSeeds?.join(', ') ?? 'not run'}, ${minutes(m.losoSeconds)}${m.losoRun ? ` (${m.losoRun})` : ''}; ${spread.k}-fold: seeds ${m.foldSeeds?.join(', ') ?? 'not run'}, ${minutes(m.foldSeconds)}${m.foldRun ? ` (${m.foldRun})` : ''}`)
      .join('. ')}.`,
    '',
  ];
  // A model without a seed spread is compared on the leave-one-source-out table above (one run, seed 42).
  const oneRun: Record<string, (x: SentenceSplit) => SplitScores | undefined> = { fasttext: (x) => x.fastText, 'lexicon-fasttext': (x) => x.lexicon };
  const bars = (name: string, role: string): string | undefined => {
    const chosen = spread.models[name];
    if (!chosen?.folds || !chosen.loso) return undefined;
    const foldMeans = sources.map((x) => mean(chosen.folds![x] ?? [0]));
    const reached = foldMeans.every((a) => a >= 0.8);
    const others = models
      .filter(([other]) => other !== name)
      .map(([other, m]) => {
        if (m.loso) return { title: `${m.title} (mean over seeds ${m.losoSeeds?.join(', ')})`, loso: (x: string) => mean(m.loso![x]!) };
        const scoreOf = oneRun[other];
        const byTest = new Map(splits.map((x) => [x.test, scoreOf?.(x)?.accuracy]));
        return sources.every((x) => byTest.get(x) !== undefined) ? { title: `${m.title} (one run, seed 42)`, loso: (x: string) => byTest.get(x)! } : undefined;
      })
      .filter((o) => o !== undefined);
    const against = others.map((o) => {
      const behind = sources.filter((x) => o.loso(x) > mean(chosen.loso![x]!));
      return `${o.title}: ${behind.length === 0 ? '**no worse** on every held-out source' : `**worse** on ${behind.join(', ')}`} (${sources.map((x) => `${x} ${signed(100 * (mean(chosen.loso![x]!) - o.loso(x)))}`).join(', ')} points)`;
    });
    return `Issue #28's bars for ${role}, ${chosen.title} (${specText(chosen.spec) || 'defaults'}): ≥ 80 % ${spread.k}-fold on each source (mean over seeds ${chosen.foldSeeds?.join(', ')}) — ${reached ? '**reached**' : '**not reached**'} (${sources.map((x, i) => `${x} ${pct(foldMeans[i]!)}`).join(', ')}). Leave one source out (its mean over seeds), against ${against.join('; ')}.`;
  };
  const generic = bars(DEFAULT_TEXT_MODEL, 'the text task\'s default (any label set)');
  const sentiment = bars(SENTIMENT_DEFAULT_MODEL, 'the sentiment preset\'s default');
  for (const verdict of [generic, sentiment]) if (verdict) lines.push(verdict, '');
  lines.push(
    "Which model is the default, chosen on these UCI sentences only (for new runs in the Train page, the CLI and sweeps; pipelines keep their quicker fastText recipe; runs and versions made before keep their model): data imported under the **sentiment preset** (the CLI's `--task sentiment`, the studio's Sentiment choice) starts from the lexicon-aware model, which leads every model that learns from the labels alone both within a source and on a source it never saw; any **other label set** (topics, spam, intents) starts from NB-SVM, because the lexicon-aware model's extra features are English sentiment lexicons that say nothing about those classes, while NB-SVM learns from the labelled texts alone and beats fastText within a source and across sources. Either can be picked on the Train page, in a sweep (`architecture`) or in the CLI's config.",
    '',
  );
  return lines;
}

/**
 * What the first run (all scores near chance) led to, measured with throwaway probes (not in the repository)
 * on the same model, input step and recipe; kept as text because the probes are not part of this run.
 */
const TRANSFER_ROOT_CAUSE = [
  "Why the first runs of this protocol scored near chance (20 % for five classes; the version 30.2 %): this script divided the pixels by 255 and then called `normalizeImageNet`, which divides by 255 again, so every input lay within 1/255 of one grey. The networks still learned (72–87 % in training mode), but the stem BatchNorm normalised variations 255 times smaller than its mean, and a running mean a fraction of a standard deviation behind the final weights wrecked inference: with the same inputs, swapping in recomputed statistics for the stem layer alone lifted a 150-step probe from 20.8 to 69 %, for every layer but the stem to 27 %. The studio's image input step is not affected (it decodes to 0–255 before `normalizeImageNet`). What was ruled out on the way: Loupe's kept statistics are exactly the exponential average of the batch statistics each step used (relative difference under 1e-5 in all 34 layers, fused wasm kernel and tfjs's cpu path alike); on the same weights and batch, training-mode features and every weight's gradient equal torchvision's (features within 2e-5; gradients within 1e-5 relative on wasm, except the β of projection BatchNorms, whose true gradient is zero and both give float noise); PyTorch trained from Loupe's exact initial weights with the same recipe and correctly scaled inputs keeps usable statistics (71.6 % eval mode, 72.4 % after `update_bn`), and so does Loupe once the inputs are scaled once (72.0 %, 75.8 % recomputed). Recomputing the statistics after training (torch's `update_bn`) is a setting of image runs, off by default (`recomputeBatchNorm`, docs/fine-tuning.md), that this protocol turns on: in the run that finished at 02:26 (listed below; before the dropout fix), after the target runs' 60-odd steps the kept running averages lagged the final weights (at 10 per class it added 5.5 points from scratch and 7.7 from the version), while after the version's 750 steps it cost 2.0 (85.8 → 83.8 %) and at 50 per class it moved the two starts by +3.1 and −0.3 — a default worth revisiting on longer runs.",
  '',
];

/** Issue #24's demo-coins comparison (scripts/eval-real/coins.ts); "not run" until it is. */
function coinsSection(c: QualityReport['coins']): string[] {
  const heading = '## Demo coins: a coin model continued from a registered version against one from scratch (issue #24)';
  if (!c) return [heading, '', "The demo coins' comparison (a coin model warm-started from another registered version against one from scratch, same budget) was not run in this round: `npm run eval:real -- --only coins`.", ''];
  const o = c.options;
  const at = (key: 'scratch' | 'fromVersion', metric: keyof CoinScores) => c.runs.map((r) => r[key][metric]);
  const gain = (metric: keyof CoinScores) => c.runs.map((r) => r.fromVersion[metric] - r.scratch[metric]);
  const fixed = (digits: number) => (xs: number[]) => (xs.length < 2 ? xs.map((x) => x.toFixed(digits)).join('') : `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}`);
  const [years, ratio] = [fixed(1), fixed(3)];
  const plus = (format: (xs: number[]) => string) => (xs: number[]) => `${mean(xs) > 0 ? '+' : ''}${format(xs)}`;
  const better = c.runs.filter((r) => r.fromVersion.mae < r.scratch.mae).length;
  const heads = c.runs.every((r) => r.head);
  return [
    heading,
    '',
    `**The coins are synthetic**: the demo coins that the Datasets page's "Load demo data" installs (\`src/lib/datasets/demo/coins.ts\`, ${c.counts.train + c.counts.val + c.counts.test} coins, front and back at 112 px, years 1850–2020; the year is struck on the obverse and the era sets design, metal and wear), imported here by the same code (\`installDemoData\`, its seeded splits: train ${c.counts.train}, val ${c.counts.val}, test ${c.counts.test}). Unlike the sections above, Loupe generated this data, so the figures say how the warm start behaves on it, not how well coins are dated in the wild.`,
    '',
    `Protocol, as a pipeline's "continue from production" uses it: **version 1** is trained on a first dataset version — ${c.counts.firstTrain} of the ${c.counts.train} training coins (those numbered below ${Math.round(100 * o.firstPart)} % of the coins generated) and the same val split — and registered (\`registerFromRun\`: model.json and weight shards, as the registry stores every version). Then the **new version**, the whole demo dataset, is trained on once **from version 1** (\`init: version:demo-coins@1\`, resolved as the studio does: \`initialWeightsResolver\` → \`planInit\` → \`applyInit\`; ${heads ? 'backbone and head, since task and targets match, as each run recorded' : 'not every run recorded taking the head'}) and once **from scratch**, with the same budget: ${o.epochs} epoch${o.epochs === 1 ? '' : 's'} each (version 1 too), no early stopping, batch ${o.batchSize}, Adam ${o.learningRate}, augmentation the task's own, BatchNorm statistics ${o.recomputeBatchNorm ? 'recomputed after training' : 'as kept during training (`recomputeBatchNorm` off, the default)'}, seeds ${o.seeds.join(', ')} (version 1: seed ${o.versionSeed}). Every run is Loupe's own training job (\`runTrainJob\`) on an in-memory database, with the model \`${specText(o.model as unknown as Record<string, unknown>)}\` (no ImageNet weights anywhere: version 1 starts from random weights too). Every model is scored on the demo dataset's test split (${c.counts.test} coins), which neither version 1 nor the runs trained or validated on.`,
    '',
    `Test split, mean ± standard deviation over seeds ${o.seeds.join(', ')}:`,
    '',
    row(['model', 'MAE (years)', 'RMSE (years)', 'R²']),
    row(['---', '---:', '---:', '---:']),
    row([`version 1 (${c.counts.firstTrain} training coins, one run, seed ${o.versionSeed})`, c.version.mae.toFixed(1), c.version.rmse.toFixed(1), c.version.r2.toFixed(3)]),
    row(['new version, from scratch', years(at('scratch', 'mae')), years(at('scratch', 'rmse')), ratio(at('scratch', 'r2'))]),
    row(['new version, from version 1', years(at('fromVersion', 'mae')), years(at('fromVersion', 'rmse')), ratio(at('fromVersion', 'r2'))]),
    row(['from version 1 − from scratch', plus(years)(gain('mae')), plus(years)(gain('rmse')), plus(ratio)(gain('r2'))]),
    '',
    `From version 1 the test MAE is lower than from scratch in ${better} of ${c.runs.length} seeds (lower is better; R² higher is better). Always answering the training coins' mean year would score R² ≤ 0.`,
    '',
    ...(c.versionRecomputed && c.runs.every((r) => r.scratchRecomputed && r.fromVersionRecomputed)
      ? [
          `The same models after recomputing their BatchNorm statistics over their own training coins (what \`recomputeBatchNorm\` does; version 1 was registered before, so the warm starts took it as trained): MAE from scratch ${years(c.runs.map((r) => r.scratchRecomputed!.mae))}, from version 1 ${years(c.runs.map((r) => r.fromVersionRecomputed!.mae))} years; R² ${ratio(c.runs.map((r) => r.scratchRecomputed!.r2))} and ${ratio(c.runs.map((r) => r.fromVersionRecomputed!.r2))}; version 1 ${c.versionRecomputed.mae.toFixed(1)} years, R² ${c.versionRecomputed.r2.toFixed(3)}.`,
          '',
        ]
      : []),
    `Per seed (MAE in years, then R²; from scratch / from version 1): ${c.runs.map((r) => `seed ${r.seed}: ${r.scratch.mae.toFixed(1)} / ${r.fromVersion.mae.toFixed(1)}, ${r.scratch.r2.toFixed(3)} / ${r.fromVersion.r2.toFixed(3)}`).join('; ')}. ${c.counts.test} test coins make each figure coarse: one coin off by 30 years moves the MAE by ${(30 / c.counts.test).toFixed(1)}.`,
    '',
    `${(c.seconds / 60).toFixed(1)} min in all, version 1 ${(c.versionSeconds / 60).toFixed(1)} min (${c.machine}, ${c.backend}, finished ${c.ranAt}${c.commit ? `, code at ${c.commit}` : ''}).`,
    '',
    ...(c.earlier ?? []).flatMap((e) => [
      `Tried before with other settings (${e.machine}, finished ${e.ranAt}${e.commit ? `, code at ${e.commit}` : ''}): \`${specText(e.options.model as unknown as Record<string, unknown>)}\`, Adam ${e.options.learningRate}, ${e.options.epochs} epochs, seeds ${e.runs.map((r) => r.seed).join(', ')} — MAE from scratch ${years(e.runs.map((r) => r.scratch.mae))}, from version 1 ${years(e.runs.map((r) => r.fromVersion.mae))} years; R² ${ratio(e.runs.map((r) => r.scratch.r2))} and ${ratio(e.runs.map((r) => r.fromVersion.r2))}; version 1 ${e.version.mae.toFixed(1)} years, R² ${e.version.r2.toFixed(3)}.`,
      '',
    ]),
  ];
}

/** A fine-tuning schedule in words, e.g. "with the backbone frozen for 2 epochs (…), then trained at 0.1 × the rate, the rate decaying to 0 by cosine". */
function scheduleText(f: FineTuneSchedule): string {
  if (!f.freezeEpochs && (f.backboneLrMultiplier ?? 1) === 1 && !f.warmupEpochs && !f.cosine) return 'at the same constant rate as from scratch, nothing frozen (the Train page\'s proposal for a start from a version)';
  const parts = [
    f.freezeEpochs ? `the backbone frozen for ${f.freezeEpochs} epochs (the new head learns on its features), then trained at ${f.backboneLrMultiplier ?? 1} × the rate` : `the backbone at ${f.backboneLrMultiplier ?? 1} × the rate`,
    f.warmupEpochs ? `${f.warmupEpochs} warm-up epochs` : '',
    f.cosine ? 'the rate decaying to 0 by cosine' : '',
  ];
  return `with ${parts.filter(Boolean).join(', ')}`;
}

function transferSection(t: NonNullable<QualityReport['transfer']>): string[] {
  const o = t.options;
  const shots = o.shots;
  const of = (n: number, key: 'scratch' | 'fineTuned') => t.runs.filter((r) => r.shots === n).map((r) => r[key]);
  const gain = (n: number) => t.runs.filter((r) => r.shots === n).map((r) => r.fineTuned - r.scratch);
  // Tolerance: differences of accuracies are not exact in floating point (0.42 − 0.30 + 0.40 − 0.32 ≠ 0.2).
  const reached = mean(gain(10)) >= 0.1 - 1e-9;
  // An earlier run of these very settings on fewer seeds: why more seeds were run.
  const sameBut = (e: EarlierTransfer) => JSON.stringify({ ...e.options, seeds: o.seeds }) === JSON.stringify(o);
  const fewerSeeds = (t.earlier ?? []).find((e) => sameBut(e) && e.options.seeds.length < o.seeds.length);
  return [
    '## Fashion-MNIST: fine-tuning from a registered version against training from scratch (issue #24)',
    '',
    `Protocol: a MobileNetV3-Small classifier (the image task's \`damage-classifier\` with \`backbone: mobilenetv3-small\`, no projection, dropout 0.2) at ${o.inputSize} px is trained in Loupe on the first ${o.pretrainImages.toLocaleString('en')} training images of five classes (${t.pretrainClasses.join(', ')}) for ${o.pretrainEpochs} epochs, Adam ${o.learningRate}, batch ${o.batchSize}, seed 42, and saved as a model version (model.json and weight shards, as the registry stores it); its test accuracy on those five classes is ${pct(t.pretrainAccuracy)} %. Then a classifier of the other five classes (${t.targetClasses.join(', ')}) is trained on ${shots.join(' or ')} labelled training images per class (drawn by the seed; the same images for both starts), once **from that version** — read back and loaded through the code path of \`init: version:<model>@<n>\` (\`loadTrainable\`, \`planInit\`, \`applyInit\`: the backbone's weights and BatchNorm statistics; the head is new, its classes differ)${o.fineTune ? ` and fine-tuned ${scheduleText(o.fineTune)}` : ''} — and once **from scratch**${o.fineTune ? ' at a constant rate (the Train page\'s default from scratch)' : ''}, with the same epochs (${shots.map((n) => `${o.epochs[n]} at ${n} per class`).join(', ')}), batch, optimizer, no augmentation, no early stopping, and seeds ${o.seeds.join(', ')}. Scored once after the last epoch on ${o.testLimit === undefined ? `all ${t.testCount.toLocaleString('en')} test images of the five target classes` : `the first ${t.testCount.toLocaleString('en')} test images of the five target classes (about ${Math.round(t.testCount / 5)} per class; the sizes were cut to fit two cores shared with other work)`}. The 28×28 grey pixels are repeated into R, G and B, resized to ${o.inputSize} px (bilinear) and ImageNet-normalised, as the image task's input step does after decoding.`,
    '',
    ...(o.recomputeBatchNorm
      ? [
          "After the last epoch each model's BatchNorm running statistics are recomputed in one pass over its own training images (no augmentation; the weights unchanged), as an image run in the studio does when its spec sets `recomputeBatchNorm` (off by default); the version is saved after its recompute, so a warm start inherits its recomputed statistics. Each model is also scored before the recompute, with the statistics kept during training.",
          '',
        ]
      : []),
    'Test accuracy in %, mean ± standard deviation over the seeds:',
    '',
    row(['labelled images per class', 'from scratch', 'from the version', 'difference (points)']),
    row(['---:', '---:', '---:', '---:']),
    ...shots.map((n) => row([n, meanSd(of(n, 'scratch')), meanSd(of(n, 'fineTuned')), meanSd(gain(n))])),
    '',
    ...(t.runs.every((r) => r.scratchKept !== undefined && r.fineTunedKept !== undefined)
      ? [
          `The same models scored with the running statistics kept during training (before the recompute): ${shots.map((n) => `${n} per class — from scratch ${meanSd(t.runs.filter((r) => r.shots === n).map((r) => r.scratchKept!))}, from the version ${meanSd(t.runs.filter((r) => r.shots === n).map((r) => r.fineTunedKept!))}`).join('; ')}; the version on its own classes ${pct(t.pretrainAccuracyKept ?? NaN)} % (${pct(t.pretrainAccuracy)} % recomputed).`,
          '',
        ]
      : []),
    ...(t.runs.every((r) => r.scratchDecayed !== undefined)
      ? [
          `Control, to tell the first weights' share from the schedule's: from scratch with the same learning-rate decay (no freezing) — ${shots.map((n) => `${n} per class ${meanSd(t.runs.filter((r) => r.shots === n).map((r) => r.scratchDecayed!))}`).join(', ')}.`,
          '',
        ]
      : []),
    `Per seed (scratch / from the version): ${shots.map((n) => `${n} per class — ${t.runs.filter((r) => r.shots === n).map((r) => `seed ${r.seed}: ${pct(r.scratch)} / ${pct(r.fineTuned)}`).join(', ')}`).join('; ')}.`,
    '',
    ...(fewerSeeds
      ? [
          `${o.seeds.length} seeds rather than the issue's three: with the same settings, seeds ${fewerSeeds.options.seeds.join(', ')} alone (listed below as tried before; the same seeds here give the same figures) left the 10-per-class difference at ${meanSd(fewerSeeds.runs.filter((r) => r.shots === 10).map((r) => r.fineTuned - r.scratch))} points, too wide to tell whether it clears 10, so seeds were added with nothing else changed.`,
          '',
        ]
      : []),
    `Issue #24's target — from the version beats from scratch by ≥ 10 points at 10 per class (mean over seeds): ${reached ? '**reached**' : '**not reached**'} (${signed(100 * mean(gain(10)))} points). ${(t.seconds / 60).toFixed(1)} min in all, pretraining ${(t.pretrainSeconds / 60).toFixed(1)} min (${t.machine}, ${t.backend}, finished ${t.ranAt}).`,
    '',
    ...TRANSFER_ROOT_CAUSE,
    ...(t.earlier ?? []).flatMap((e) => {
      const at = (n: number, key: 'scratch' | 'fineTuned') => meanSd(e.runs.filter((r) => r.shots === n).map((r) => r[key]));
      return [
        `Tried before with other settings (${e.machine}, finished ${e.ranAt}): ${e.options.pixelScaling === 'once' ? '' : 'pixels divided by 255 twice (the bug above), '}${e.options.dropoutMasks === 'per-step' ? '' : 'dropout repeating one mask per batch position for the whole run (fixed since: docs/reliability.md), '}${e.options.fineTune ? `the start from the version fine-tuned ${scheduleText(e.options.fineTune)}, ` : 'the start from the version trained like the one from scratch (no schedule), '}${e.options.recomputeBatchNorm ? 'BatchNorm statistics recomputed, ' : 'scored with the BatchNorm statistics kept during training (no recompute), '}pretraining on ${e.options.pretrainImages.toLocaleString('en')} images for ${e.options.pretrainEpochs} epochs (the version's accuracy on its own classes ${pct(e.pretrainAccuracy)} %), target epochs ${e.options.shots.map((n) => `${e.options.epochs[n]} at ${n} per class`).join(', ')}, ${e.testCount} test images, seeds ${e.options.seeds.join(', ')}: ${e.options.shots.map((n) => `${n} per class — scratch ${at(n, 'scratch')}, from the version ${at(n, 'fineTuned')}`).join('; ')}.`,
        '',
      ];
    }),
  ];
}

/** docs/quality.md from the figures of the last runs. */
export function qualityMarkdown(report: QualityReport): string {
  return [
    '# Model quality on real data',
    '',
    'Written by `npm run eval:real` (scripts/eval-real) from `docs/quality.json`; every figure below is from that run, with fixed seeds. Fashion-MNIST and the sentences are real, labelled by others, and installed from ordinary packages; only the demo coins section uses data Loupe generated (its synthetic demo coins), and it says so.',
    '',
    `Machine (load average at the start of each part): ${[report.fashion && `Fashion-MNIST — ${report.fashion.machine}, finished ${report.fashion.ranAt}`, report.sentences && `sentences — ${report.sentences.machine}, finished ${report.sentences.ranAt}`].filter(Boolean).join('; ')}. The two cores were shared with other engineers' work while this ran, so the times are pessimistic; under heavier sharing (load 15–20) the same runs took several times longer.`,
    '',
    ...(report.fashion ? fashionSection(report.fashion) : ['## Fashion-MNIST', '', 'Not run yet: `npm run eval:real -- --only fashion`.', '']),
    ...(report.transfer ? transferSection(report.transfer) : ['## Fashion-MNIST transfer', '', 'Not run yet: `npm run eval:real -- --only transfer`.', '']),
    ...coinsSection(report.coins),
    ...(report.sentences ? sentencesSection(report.sentences) : ['## Sentiment Labelled Sentences', '', 'Not run yet: `npm run eval:real -- --only sentences`.', '']),
    '## Reproduce',
    '',
    '```sh',
    'apt-get install dataset-fashion-mnist   # Debian; the sentences come with npm ci (package `sentiment`)',
    'npm run eval:real                       # both parts (Fashion-MNIST takes about 15 minutes)',
    'npm run eval:real -- --only transfer    # pretrain MobileNetV3-Small on five Fashion-MNIST classes, then the other five from that version and from scratch (about 30 minutes)',
    'npm run eval:real -- --only coins       # the demo coins: version 1 on a part of them, then the whole set from it and from scratch, seeds 1,2,3 (about 20 minutes)',
    'npm run eval:real -- --only sentences   # the sentences and their seed spread (about 25 minutes); the Fashion-MNIST figures already in docs/quality.json are kept',
    'npm run eval:real -- --only seeds       # the seed spread alone (--seeds 1,2,3,4,5 by default; --seeds \'\' skips it in a sentences run)',
    'npm run eval:real -- --only nbsvm-grid  # NB-SVM\'s settings: 4 candidates × 5-fold within each source (36 minutes here under load 15)',
    'npm run eval:real -- --only spread      # every text model, seeds 1,2,3, leave one source out and 10-fold within each source (about 2 hours on the 2 shared cores here: per seed, 10-fold takes 3–9 min for NB-SVM, 9–14 for fastText and the lexicon-aware model; see the times above)',
    'npm run eval:real -- --only spread --models nbsvm --protocols folds --spread-seeds 2   # one model, protocol and seed at a time, merged into docs/quality.json',
    '```',
    '',
    'The CI runs a shortened version as a unit test (`tests/unit/quality/real-data.test.ts`): every record read by the importers, a subset and few epochs, quality clearly above chance.',
    '',
  ].join('\n');
}
