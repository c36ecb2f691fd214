/**
 * Model quality on real data that no one here wrote (issue #15): Fashion-MNIST with the small CNN, and the
 * UCI Sentiment Labelled Sentences leave-one-source-out with fastText and the lexicon-aware fastText next to
 * AFINN and VADER.
 *
 *   npm run eval:real                        # both parts, then docs/quality.md
 *   npm run eval:real -- --only fashion      # one part; the other's last figures are kept
 *   npm run eval:real -- --only sentences    # the sentences only (minutes; Fashion-MNIST takes ~15)
 *   npm run eval:real -- --only sentences --test imdb --out /tmp/q   # one held-out source, written elsewhere
 *   npm run eval:real -- --epochs 2          # fewer Fashion-MNIST epochs (a quicker, weaker run)
 *   npm run eval:real -- --only seeds        # only the lexicon-aware model's seed spread (--seeds 1,2,3)
 *   npm run eval:real -- --only report       # rewrite docs/quality.md from docs/quality.json, no training
 *
 * Every figure comes from this run (fixed seeds); docs/quality.json keeps them and docs/quality.md is
 * written from it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeMachine, startBackend } from './backend';
import { FULL_FASHION, readFashion, evaluateFashion, readPublished } from './fashion';
import { qualityMarkdown, type QualityReport } from './report';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    epochs: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'docs' },
    // Held-out sources to run (comma-separated; all three when omitted): a quicker look while developing.
    test: { type: 'string' },
    // Seeds of the lexicon-aware model's seed spread (comma-separated; none: --seeds '').
    seeds: { type: 'string', default: '1,2,3,4,5' },
  },
});
if (args.only && !['fashion', 'sentences', 'seeds', 'report'].includes(args.only)) throw new Error(`--only must be fashion, sentences, seeds or report, got ${args.only}`);
const seeds = args.seeds.split(',').filter(Boolean).map(Number);
if (seeds.some((seed) => !Number.isInteger(seed))) throw new Error(`--seeds must be whole numbers separated by commas, got ${args.seeds}`);
if (args.test && args.out === 'docs') throw new Error('--test runs only some held-out sources: give --out <folder> so docs/quality.md keeps all three splits');
if (args.backend !== 'wasm' && args.backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${args.backend}`);

const jsonPath = `${args.out}/quality.json`;
const report: QualityReport = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as QualityReport) : {};
const backend = await startBackend(args.backend);
const machine = describeMachine();
console.log(`${machine}\n${backend}\n`);

if (!args.only || args.only === 'fashion') {
  const options = { ...FULL_FASHION, ...(args.epochs ? { epochs: Number(args.epochs) } : {}) };
  console.log(`Fashion-MNIST: small CNN ${JSON.stringify(options.filters)} + dense ${options.dense}, ${options.epochs} epochs, batch ${options.batchSize}, Adam ${options.learningRate}, seed ${options.seed}`);
  const started = performance.now();
  const data = readFashion();
  const readSeconds = (performance.now() - started) / 1000;
  console.log(`  read ${data.train.count} training and ${data.test.count} test images in ${readSeconds.toFixed(1)} s`);
  const result = await evaluateFashion(data, {
    ...options,
    onEpoch: (epoch, loss, seconds) => console.log(`  epoch ${epoch}/${options.epochs}: loss ${loss.toFixed(4)}, ${seconds.toFixed(0)} s`),
  });
  const { onEpoch: _, ...settings } = options;
  report.fashion = { ...result, options: settings, readSeconds, published: readPublished(), backend, machine, ranAt: new Date().toISOString() };
  console.log(`  test accuracy ${result.metrics.accuracy.toFixed(4)}, macro-F1 ${result.metrics.macroF1.toFixed(4)}, training ${result.trainSeconds.toFixed(0)} s\n`);
}

if (!args.only || args.only === 'sentences') {
  const { evaluateSentences, readSentences } = await import('./sentences');
  console.log('Sentiment Labelled Sentences: leave one source out');
  const result = await evaluateSentences(await readSentences(), undefined, args.test ? args.test.split(',') : undefined);
  report.sentences = { ...result, backend, machine, ranAt: new Date().toISOString() };
  for (const split of result.splits) {
    console.log(
      `  test ${split.test.padEnd(6)} (${split.testCount}): fastText ${split.fastText.accuracy.toFixed(3)}  lexicon-aware ${split.lexicon?.accuracy.toFixed(3)} ${JSON.stringify(split.lexiconSpec)}  VADER ${split.vader.accuracy.toFixed(3)}  AFINN ${split.afinn.accuracy.toFixed(3)}  (${split.trainSeconds.toFixed(1)} s)`,
    );
  }
  console.log();
}

if ((!args.only || args.only === 'sentences' || args.only === 'seeds') && seeds.length > 0 && !args.test) {
  if (!report.sentences) throw new Error('--only seeds needs a sentences run first: npm run eval:real -- --only sentences');
  const { lexiconSeedSpread, readSentences, SEED_SPREAD_SPEC } = await import('./sentences');
  console.log(`Seed spread: ${JSON.stringify(SEED_SPREAD_SPEC)}, seeds ${seeds.join(', ')}`);
  const spread = await lexiconSeedSpread(await readSentences(), seeds, SEED_SPREAD_SPEC);
  for (const run of spread.runs) console.log(`  seed ${run.seed}: ${Object.entries(run.accuracy).map(([test, a]) => `${test} ${a.toFixed(3)} (VADER ${spread.vader[test]!.toFixed(3)})`).join('  ')}`);
  report.sentences.seedSpread = { ...spread, backend, machine: describeMachine(), ranAt: new Date().toISOString() };
  console.log();
}

// Another part may have finished while this one ran: keep its figures.
const latest: QualityReport = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as QualityReport) : {};
if (args.only === 'fashion') report.sentences = latest.sentences ?? report.sentences;
if (args.only === 'sentences' || args.only === 'seeds') report.fashion = latest.fashion ?? report.fashion;
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${args.out}/quality.md`, qualityMarkdown(report));
console.log(`wrote ${jsonPath} and ${args.out}/quality.md`);
