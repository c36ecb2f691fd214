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
 *   npm run eval:real -- --only nbsvm-grid   # NB-SVM's settings, chosen by 5-fold within each source (fold seed 99)
 *   npm run eval:real -- --only spread       # every text model under seeds 1,2,3: leave one source out and 10-fold within each source
 *   npm run eval:real -- --only spread --models nbsvm --protocols folds --spread-seeds 1,2   # a part of it (merged into the rest)
 *   npm run eval:real -- --only transfer     # issue #24's transfer protocol: pretrain on five classes, warm-start the other five (10 and 50 per class)
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
import type { FineTuneSchedule } from '../../src/lib/db/specs';
import { checkSchedule } from '../../src/lib/training/fine-tune';

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
    // The spread part: which text models, protocols and seeds (every model, both protocols, seeds 1,2,3).
    models: { type: 'string' },
    protocols: { type: 'string', default: 'loso,folds' },
    'spread-seeds': { type: 'string', default: '1,2,3' },
    // The transfer part's schedule for the start from the version: 'none', or a fineTune object as JSON.
    'fine-tune': { type: 'string' },
  },
});
if (args.only && !['fashion', 'transfer', 'sentences', 'seeds', 'nbsvm-grid', 'spread', 'report'].includes(args.only)) throw new Error(`--only must be fashion, transfer, sentences, seeds, nbsvm-grid, spread or report, got ${args.only}`);
const spreadSeeds = args['spread-seeds'].split(',').filter(Boolean).map(Number);
if (spreadSeeds.some((seed) => !Number.isInteger(seed))) throw new Error(`--spread-seeds must be whole numbers separated by commas, got ${args['spread-seeds']}`);
const protocols = args.protocols.split(',').filter(Boolean);
if (protocols.some((p) => p !== 'loso' && p !== 'folds')) throw new Error(`--protocols must be loso, folds or both (comma-separated), got ${args.protocols}`);
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

if (!args.only || args.only === 'transfer') {
  const { evaluateTransfer, TRANSFER } = await import('./transfer');
  console.log(`Fashion-MNIST transfer: MobileNetV3-Small ${TRANSFER.inputSize} px, pretrained on classes ${TRANSFER.pretrainClasses.join(', ')}, seeds ${TRANSFER.seeds.join(', ')}`);
  const fineTune = args['fine-tune'] === undefined ? TRANSFER.fineTune : args['fine-tune'] === 'none' ? undefined : (JSON.parse(args['fine-tune']) as FineTuneSchedule);
  if (fineTune) checkSchedule(fineTune, Math.min(...Object.values(TRANSFER.epochs)), 'adam');
  const result = await evaluateTransfer(readFashion(), { ...TRANSFER, fineTune }, console.log);
  // Earlier runs of other settings stay listed (what was tried), without their per-run detail.
  const before = report.transfer;
  const earlier = before ? [...(before.earlier ?? []), { options: before.options, pretrainAccuracy: before.pretrainAccuracy, testCount: before.testCount, runs: before.runs, machine: before.machine, ranAt: before.ranAt }] : [];
  report.transfer = { ...result, backend, machine, ranAt: new Date().toISOString(), earlier: earlier.filter((e) => JSON.stringify(e.options) !== JSON.stringify(result.options)) };
  console.log(`  ${(result.seconds / 60).toFixed(1)} min\n`);
}

if (!args.only || args.only === 'sentences') {
  const { evaluateSentences, readSentences } = await import('./sentences');
  console.log('Sentiment Labelled Sentences: leave one source out');
  const result = await evaluateSentences(await readSentences(), undefined, args.test ? args.test.split(',') : undefined);
  // The spread and NB-SVM's grid are their own parts (--only spread, --only nbsvm-grid): keep their figures.
  const { spread, nbsvmGrid } = report.sentences ?? {};
  report.sentences = { ...result, backend, machine, ranAt: new Date().toISOString(), spread, nbsvmGrid };
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
  // The spread's leave-one-source-out row of the lexicon-aware model is this seed spread: taken anew below.
  if (report.sentences.spread?.models['lexicon-fasttext']?.losoRun?.endsWith('the seed spread above')) delete report.sentences.spread.models['lexicon-fasttext'].loso;
  console.log();
}

if (args.only === 'nbsvm-grid') {
  if (!report.sentences) throw new Error('--only nbsvm-grid needs a sentences run first: npm run eval:real -- --only sentences');
  const { nbsvmGrid, readSentences, NBSVM_GRID } = await import('./sentences');
  console.log(`NB-SVM settings: ${NBSVM_GRID.k}-fold within each source, fold seed ${NBSVM_GRID.foldSeed}`);
  const grid = await nbsvmGrid(await readSentences());
  report.sentences.nbsvmGrid = { ...grid, k: NBSVM_GRID.k, foldSeed: NBSVM_GRID.foldSeed, run: `${describeMachine()}, finished ${new Date().toISOString()}` };
  console.log(`  chosen ${JSON.stringify(grid.chosen)} (${(grid.seconds / 60).toFixed(1)} min)\n`);
}

if ((!args.only || args.only === 'spread') && spreadSeeds.length > 0 && !args.test) {
  if (!report.sentences) throw new Error('--only spread needs a sentences run first: npm run eval:real -- --only sentences');
  const { lexiconAccuracy, readSentences, spreadOf, SPREAD_MODELS } = await import('./sentences');
  const names = args.models ? args.models.split(',') : Object.keys(SPREAD_MODELS);
  const unknown = names.filter((name) => !SPREAD_MODELS[name]);
  if (unknown.length > 0) throw new Error(`--models takes ${Object.keys(SPREAD_MODELS).join(', ')}; not ${unknown.join(', ')}`);
  const sources = await readSentences();
  const spread = (report.sentences.spread ??= { k: 10, ...lexiconAccuracy(sources), models: {} });
  for (const name of names) {
    const { title, spec } = SPREAD_MODELS[name]!;
    // Figures of another spec are not this model's any more: start its entry afresh.
    const entry = spread.models[name] && JSON.stringify(spread.models[name].spec) === JSON.stringify(spec) ? spread.models[name] : (spread.models[name] = { title, spec: { ...spec } });
    for (const protocol of protocols as ('loso' | 'folds')[]) {
      console.log(`Spread: ${title} ${JSON.stringify(spec)}, ${protocol === 'loso' ? 'leave one source out' : `${spread.k}-fold within each source`}, seeds ${spreadSeeds.join(', ')}`);
      const result = await spreadOf(sources, spec, protocol, spreadSeeds, spread.k);
      const run = `${describeMachine()}, finished ${new Date().toISOString()}`;
      // Seeds run before (another invocation) are kept, so the seeds can be run one at a time.
      const merged = (seeds: number[] | undefined, before: Record<string, number[]> | undefined, now: Record<string, number[]>) => {
        const kept = (seeds ?? []).map((seed, i) => [seed, i] as const).filter(([seed]) => !spreadSeeds.includes(seed));
        const sources = Object.keys(now);
        return {
          seeds: [...kept.map(([seed]) => seed), ...spreadSeeds],
          accuracy: Object.fromEntries(sources.map((x) => [x, [...kept.map(([, i]) => before?.[x]?.[i] ?? NaN), ...now[x]!]])),
        };
      };
      if (protocol === 'loso') {
        const m = merged(entry.losoSeeds, entry.loso, result.loso!);
        Object.assign(entry, { loso: m.accuracy, losoSeeds: m.seeds, losoSeconds: result.seconds + (m.seeds.length > spreadSeeds.length ? (entry.losoSeconds ?? 0) : 0), losoRun: run });
      } else {
        const m = merged(entry.foldSeeds, entry.folds, result.folds!);
        Object.assign(entry, { folds: m.accuracy, foldSeeds: m.seeds, foldSeconds: result.seconds + (m.seeds.length > spreadSeeds.length ? (entry.foldSeconds ?? 0) : 0), foldRun: run });
      }
      console.log(`  ${(result.seconds / 60).toFixed(1)} min\n`);
      // Written after each part: a long run that is stopped keeps what it finished.
      writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    }
  }
}

if (report.sentences?.spread) {
  // Every compared model has a row (its figures "not run" until they are), and the lexicon-aware model's seed
  // spread (--only seeds) is leave-one-source-out with the same spec: its figures are reused, not retrained.
  const { SPREAD_MODELS } = await import('./sentences');
  const { spread, seedSpread } = report.sentences;
  for (const [name, { title, spec }] of Object.entries(SPREAD_MODELS)) spread.models[name] ??= { title, spec: { ...spec } };
  const lexicon = spread.models['lexicon-fasttext'];
  if (lexicon && !lexicon.loso && seedSpread && JSON.stringify(seedSpread.spec) === JSON.stringify(lexicon.spec)) {
    Object.assign(lexicon, {
      loso: Object.fromEntries(Object.keys(spread.vader).map((x) => [x, seedSpread.runs.map((r) => r.accuracy[x]!)])),
      losoSeeds: seedSpread.runs.map((r) => r.seed),
      losoRun: `${seedSpread.machine}, finished ${seedSpread.ranAt}: the seed spread above`,
    });
  }
}

// Another part may have finished while this one ran: keep its figures.
const latest: QualityReport = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as QualityReport) : {};
// Each part writes only its own figures: the others come from the file as it is now.
if (args.only) {
  const own: Record<string, (keyof QualityReport)[]> = { fashion: ['fashion'], transfer: ['transfer'], report: [] };
  const mine = own[args.only] ?? ['sentences'];
  for (const key of ['fashion', 'transfer', 'sentences'] as const) if (!mine.includes(key)) (report as Record<string, unknown>)[key] = latest[key] ?? report[key];
}
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${args.out}/quality.md`, qualityMarkdown(report));
console.log(`wrote ${jsonPath} and ${args.out}/quality.md`);
