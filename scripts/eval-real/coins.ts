/**
 * Issue #24's demo-coins comparison: a coin-year model trained on a new dataset version, once warm-started
 * from the version registered on an earlier, smaller dataset version (a pipeline's "continue from
 * production") and once from scratch, with the same budget. Everything runs through the studio's own code
 * on an in-memory database, as the CLI does: the demo coins as "Load demo data" installs them
 * (`installDemoData`, the same generator, seed and splits; sharp stores the PNGs byte for byte, as the
 * browser does), the training job (`runTrainJob`), the registry (`registerFromRun`) and `init:
 * version:<model>@<n>` (`initialWeightsResolver` → `planInit` → `applyInit`: backbone and head, since the
 * task and targets match).
 *
 * The warm start's spec is the scratch one plus `init`, as a pipeline's train step makes it (no
 * freeze-then-unfreeze schedule unless the recipe has one).
 *
 * Data: version 1 is the demo coins' val split plus the part of their train split with the lower coin
 * numbers (`firstPart` of the coins generated); the new version is the demo dataset itself (all of its
 * train split, the same val split). Both are scored on the demo dataset's test split, which neither saw.
 */
import * as tf from '@tensorflow/tfjs';
import { sharpProcessor } from '../../src/cli/images';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { DEFAULT_COINS, type CoinOptions } from '../../src/lib/datasets/demo/coins';
import { demoCandidates, installDemoData } from '../../src/lib/datasets/demo/install';
import { importCandidates } from '../../src/lib/datasets/ingest';
import { LoupeDb } from '../../src/lib/db/db';
import type { TrainJobSpec } from '../../src/lib/db/specs';
import { findRunModel } from '../../src/lib/registry/evaluators';
import { ModelRegistry } from '../../src/lib/registry/registry';
import type { ModelSpec } from '../../src/lib/tasks/registry';
import type { TrainableModel } from '../../src/lib/tasks/types';
import { recomputeBatchNormStatistics } from '../../src/lib/training/batch-norm-stats';
import { evaluateHeldOutSplit } from '../../src/lib/training/evaluate';
import { plainInputs, runTrainJob, splitIds } from '../../src/lib/training/job';
import { memoryWeightCache } from '../../src/lib/weights/cache';
import { initialWeightsResolver } from '../../src/lib/workflows/initial-weights';

export interface CoinsOptions {
  /** The coin-year model. */
  model: ModelSpec;
  /** Epochs of version 1 and of both runs on the new version (no early stopping: the same budget). */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seed of version 1's run. */
  versionSeed: number;
  /** Seeds of the runs on the new version (each seed trains both starts). */
  seeds: number[];
  /** Version 1's training coins: those of the demo train split numbered below this share of the coins generated. */
  firstPart: number;
  /**
   * The image runs' `recomputeBatchNorm` (the studio's default is off). When off, every model is also
   * scored after recomputing its statistics over its own training coins (after version 1 is registered:
   * the warm starts take the version as the registry keeps it).
   */
  recomputeBatchNorm: boolean;
  /** Fewer coins than the demo's 300: only for a quick check of the script, never for the figures. */
  coins?: Partial<CoinOptions>;
}

/**
 * The model and rate of the coin e2e (tests/e2e/train-coins.e2e.ts, about 22 years after 4 epochs from
 * scratch): dual MobileNetV3-Small at 64 px, a 32-unit projection, Adam 0.003 — at a constant rate and
 * without early stopping here, so both starts get exactly the same steps. The pipelines' default
 * (shared, no projection, Adam 0.001, 10 epochs) was tried first: 5 of its 6 runs scored worse than always
 * answering the mean year (R² < 0; docs/quality.md lists it under "tried before").
 */
export const COINS: CoinsOptions = {
  model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 64, projection: { units: 32 }, dropout: 0.2, loss: 'huber' },
  epochs: 8,
  batchSize: 16,
  learningRate: 0.003,
  versionSeed: 42,
  seeds: [1, 2, 3],
  firstPart: 0.5,
  recomputeBatchNorm: false,
};

/** Test-split figures of one model: MAE and RMSE in years, R². */
export interface CoinScores {
  mae: number;
  rmse: number;
  r2: number;
}

export interface CoinsRun {
  seed: number;
  scratch: CoinScores;
  fromVersion: CoinScores;
  /** The same models with BatchNorm statistics recomputed over their training coins (runs without `recomputeBatchNorm`). */
  scratchRecomputed?: CoinScores;
  fromVersionRecomputed?: CoinScores;
  /** What the warm start took from the version, as its run records it. */
  head: boolean;
}

export interface CoinsResult {
  options: CoinsOptions;
  /** Coins in each split of the demo dataset (the new version) and in version 1's dataset. */
  counts: { train: number; val: number; test: number; firstTrain: number };
  /** Version 1 on the test split; `versionRecomputed` with its BatchNorm statistics recomputed. */
  version: CoinScores;
  versionRecomputed?: CoinScores;
  versionSeconds: number;
  runs: CoinsRun[];
  seconds: number;
}

const scoresOf = (metrics: Record<string, number>): CoinScores => ({ mae: metrics.mae!, rmse: metrics.rmse!, r2: metrics.r2! });

/** `coins/coin-0123_front.png` → 123. */
function coinNumber(path: string): number {
  const match = /coin-(\d+)_/.exec(path);
  if (!match) throw new Error(`demo coin sample ${path}: no coin number in its path`);
  return Number(match[1]);
}

/**
 * Installs the demo coins, registers version 1 trained on a part of them, then trains on the whole demo
 * dataset from that version and from scratch, per seed, scoring every model on the test split.
 * @example const result = await evaluateCoins(COINS, console.log);
 */
export async function evaluateCoins(options: CoinsOptions = COINS, log: (line: string) => void = () => {}): Promise<CoinsResult> {
  const started = performance.now();
  const backend = { backend: tf.getBackend() as 'wasm' | 'cpu', adapter: 'Node' };
  // A fresh in-memory studio database, as the CLI's (not its module: that one sets the studio's wasm paths).
  const db = new LoupeDb(`loupe-eval-coins-${process.pid}-${Date.now()}`, { indexedDB: new IDBFactory(), IDBKeyRange });
  try {
    // 1. The demo coins exactly as the Datasets page's "Load demo data" stores them.
    const demo = { only: ['coins' as const], processor: sharpProcessor, ...(options.coins ? { coins: options.coins } : {}) };
    const { installed } = await installDemoData(db, demo);
    const full = installed[0];
    if (!full) throw new Error('the demo coins were installed already in a fresh database');
    const splitOf = new Map<number, string>();
    await db.samples.where('datasetId').equals(full.id).each((s) => void splitOf.set(coinNumber(s.path), s.split));
    const generated = { ...DEFAULT_COINS, ...options.coins }.count;
    const inFirst = (n: number) => splitOf.get(n) === 'val' || (splitOf.get(n) === 'train' && n < generated * options.firstPart);

    // 2. Version 1's dataset: the same coins' files, their splits named so they stay those of the demo dataset.
    const candidates = demoCandidates('coins', demo)
      .map((c) => ({ c, n: coinNumber(c.kind === 'image' ? c.files[0]!.path : '') }))
      .filter(({ n }) => inFirst(n))
      .map(({ c, n }) => ({ ...c, split: splitOf.get(n) as 'train' | 'val' }));
    const first = (
      await importCandidates(
        db,
        { task: 'coin-year', candidates, skipped: [] },
        { task: 'coin-year', name: 'Demo coins (synthetic), first part', synthetic: true, seed: 42 },
        { processor: sharpProcessor },
      )
    ).dataset;
    const counts = { train: full.splits?.train ?? 0, val: full.splits?.val ?? 0, test: full.splits?.test ?? 0, firstTrain: first.splits?.train ?? 0 };
    log(`  demo coins: train ${counts.train}, val ${counts.val}, test ${counts.test}; version 1 trains on ${counts.firstTrain} of the train coins`);

    const spec = (datasetId: string, seed: number, name: string): TrainJobSpec => ({
      name,
      task: 'coin-year',
      datasetId,
      model: options.model,
      epochs: options.epochs,
      batchSize: options.batchSize,
      optimizer: 'adam',
      learningRate: options.learningRate,
      seed,
      recomputeBatchNorm: options.recomputeBatchNorm,
    });
    const test = async (trainable: TrainableModel): Promise<CoinScores> =>
      scoresOf((await evaluateHeldOutSplit(db, trainable, full.id, { splits: ['test'], batchSize: options.batchSize })).metrics);
    /** Test scores as trained, then (runs that kept their statistics) after recomputing them; the model is disposed. */
    const testScores = async (trainable: TrainableModel, datasetId: string): Promise<{ scores: CoinScores; recomputed?: CoinScores }> => {
      try {
        const scores = await test(trainable);
        if (options.recomputeBatchNorm) return { scores };
        await recomputeBatchNormStatistics(trainable.model, plainInputs(db, trainable, await splitIds(db, datasetId, 'train'), options.batchSize));
        return { scores, recomputed: await test(trainable) };
      } finally {
        trainable.dispose();
      }
    };

    // 3. Version 1, registered as the registry stores any run's model.
    const versionStarted = performance.now();
    const v1 = await runTrainJob(db, spec(first.id, options.versionSeed, 'demo coins v1'), { backend });
    const weights = await findRunModel(db, v1.runId);
    if (!weights) throw new Error('version 1 trained but saved no final model');
    const registered = await new ModelRegistry(db).registerFromRun(v1.runId, { name: 'demo-coins', weights });
    const { scores: version, recomputed: versionRecomputed } = await testScores(v1.trainable, first.id);
    const versionSeconds = (performance.now() - versionStarted) / 1000;
    log(`  version 1 (${registered.name} v${registered.version}): test MAE ${version.mae.toFixed(1)} years, R² ${version.r2.toFixed(3)}${versionRecomputed ? `; recomputed BatchNorm statistics: ${versionRecomputed.mae.toFixed(1)}, ${versionRecomputed.r2.toFixed(3)}` : ''} (${versionSeconds.toFixed(0)} s)`);

    // 4. The new version: from scratch and from version 1, same budget, per seed.
    const initialWeights = initialWeightsResolver(db, { cache: memoryWeightCache() });
    const runs: CoinsRun[] = [];
    for (const seed of options.seeds) {
      const runStarted = performance.now();
      const scratch = await testScores((await runTrainJob(db, spec(full.id, seed, `demo coins, scratch, seed ${seed}`), { backend })).trainable, full.id);
      const warm = await runTrainJob(db, { ...spec(full.id, seed, `demo coins, from v1, seed ${seed}`), init: `version:${registered.name}@${registered.version}` }, { backend, initialWeights });
      const fromVersion = await testScores(warm.trainable, full.id);
      const recorded = (await db.runs.get(warm.runId))?.initialWeights;
      runs.push({
        seed,
        scratch: scratch.scores,
        fromVersion: fromVersion.scores,
        ...(scratch.recomputed && fromVersion.recomputed ? { scratchRecomputed: scratch.recomputed, fromVersionRecomputed: fromVersion.recomputed } : {}),
        head: recorded?.kind === 'version' && recorded.head === true,
      });
      const recomputed = scratch.recomputed && fromVersion.recomputed ? `; recomputed BatchNorm statistics: MAE ${scratch.recomputed.mae.toFixed(1)} / ${fromVersion.recomputed.mae.toFixed(1)}` : '';
      log(`  seed ${seed}: MAE scratch ${scratch.scores.mae.toFixed(1)}, from v1 ${fromVersion.scores.mae.toFixed(1)} years; R² ${scratch.scores.r2.toFixed(3)} / ${fromVersion.scores.r2.toFixed(3)}${recomputed} (${((performance.now() - runStarted) / 1000).toFixed(0)} s)`);
    }
    return { options, counts, version, ...(versionRecomputed ? { versionRecomputed } : {}), versionSeconds, runs, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}
