import * as tf from '@tensorflow/tfjs';
import type { LoupeDb } from '$lib/db/db';
import type { BackendName, RunRow, SampleRow, Split } from '$lib/db/types';
import type { TrainJobSpec } from '$lib/db/specs';
import { deriveSeed, mulberry32, shuffled } from '$lib/random';
import { createTrainable, TASKS } from '$lib/tasks/registry';
import { augmentationProblem, withAugmentationRecorded } from '$lib/tasks/model-specs';
import { adam } from './adam';
import { microBatchFor } from './memory';
import { toBatch, type TrainableModel } from '$lib/tasks/types';
import type { ProgressCallback } from '$lib/progress';
import { EarlyStopping } from './early-stopping';
import { analyzeErrors, trainedOn } from './analysis';
import { classifyFailure, DeviceLostError, failureReason } from './failures';
import { assignFolds, summarizeFolds } from './kfold';
import { evaluateSamples, sampleChunks, valPrefixed } from './evaluate';
import { TrainingCancelledError, trainLoop, type Batch, type BatchSource, type StopCheck, type TrainLoopOptions } from './loop';
import { decodeTensors, encodeTensors, latestCheckpoint, restoreCheckpoint, saveCheckpoint, saveFinalModel, type CheckpointData } from './checkpoints';
import { asStorageFull, isQuotaError, type StorageFullError } from '$lib/db/quota';
import { withLock } from '$lib/locks';
import { RunTracker, withSession } from './run-tracker';
import { applyInit, parseInit, planInit, specBackbone, type InitialWeightsResolver, type InitPlan, type ResolvedInit } from './init';
import { checkSchedule, scheduleDriver, setBackbonesFrozen } from './fine-tune';
import { FrozenFeatures } from './frozen-features';
import { augments } from '$lib/images/augment';
import { splitAtBackbones } from '$models/backbones/split';
import { backbonesOf } from '$models/backbones/index';
import { recomputeBatchNormStatistics } from './batch-norm-stats';

export type { TrainJobSpec } from '$lib/db/specs';

export interface TrainJobContext {
  backend: { backend: BackendName; adapter: string };
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Called once the run row exists, so the UI can follow it. */
  onRunCreated?: (runId: string) => void;
  /** Groups the run under a parent (k-fold, sweeps). */
  parentId?: string;
  /** Asked after each epoch whether to end the run there (a sweep's hyperband); see `TrainLoopOptions.shouldStop`. */
  shouldStop?: StopCheck;
  /** Fetches the first weights a spec's `init` names (hub, file, registered version); needed unless it is `scratch`. */
  initialWeights?: InitialWeightsResolver;
  /**
   * Whether frozen-backbone epochs after the first reuse the backbone's features when training inputs do
   * not change between epochs (no augmentation). Default true; false recomputes them every epoch.
   */
  reuseFeatures?: boolean;
}

export interface TrainJobResult {
  runId: string;
  metrics: Record<string, number>;
  trainable: TrainableModel;
}

export class TrainJobError extends Error {
  override name = 'TrainJobError';
}

/**
 * The job spec a run was started with, read back from its params; a baseline evaluated as-is has no
 * optimiser or schedule, so there is nothing to resume.
 */
export function jobSpecOf(run: Pick<RunRow, 'name' | 'params'>): TrainJobSpec {
  const { epochs, batchSize, optimizer, learningRate, seed, kFolds: _, ...rest } = run.params;
  if (epochs === undefined || batchSize === undefined || optimizer === undefined || learningRate === undefined || seed === undefined) {
    throw new TrainJobError(`run "${run.name}" was not trained by Loupe's loop: it records no epochs, batch size, optimizer, learning rate or seed`);
  }
  return { ...rest, epochs, batchSize, optimizer, learningRate, seed };
}

function validateSpec(spec: TrainJobSpec): void {
  const positiveInt = (value: number, field: string) => {
    if (!Number.isInteger(value) || value < 1) throw new TrainJobError(`${field} must be a whole number ≥ 1, got ${value}`);
  };
  positiveInt(spec.epochs, 'epochs');
  positiveInt(spec.batchSize, 'batchSize');
  if (!(spec.learningRate > 0 && Number.isFinite(spec.learningRate))) {
    throw new TrainJobError(`learningRate must be a positive number, got ${spec.learningRate}`);
  }
  if (!Number.isInteger(spec.seed)) throw new TrainJobError(`seed must be an integer, got ${spec.seed}`);
  if (parseInit(spec.init).kind !== 'scratch' && !specBackbone(spec.model)) {
    throw new TrainJobError(`init "${spec.init}" needs a model with a backbone (resnet18, mobilenetv3-small); ${spec.model.architecture} has none`);
  }
  const fineTune = 'fineTune' in spec.model ? spec.model.fineTune : undefined;
  if (fineTune) checkSchedule(fineTune, spec.epochs, spec.optimizer);
  const augmentation = augmentationProblem('augmentation' in spec.model ? spec.model.augmentation : undefined);
  if (augmentation) throw new TrainJobError(augmentation);
  if (spec.recomputeBatchNorm !== undefined && typeof spec.recomputeBatchNorm !== 'boolean') {
    throw new TrainJobError(`recomputeBatchNorm must be true or false, got ${JSON.stringify(spec.recomputeBatchNorm)}`);
  }
}

/** The spec as the run records it: image models say whether BatchNorm statistics are recomputed (default no). */
function withDefaults(requested: TrainJobSpec): TrainJobSpec {
  const images = TASKS[requested.task].input !== 'text';
  return {
    ...requested,
    model: withAugmentationRecorded(requested.task, requested.model),
    ...(images ? { recomputeBatchNorm: requested.recomputeBatchNorm ?? false } : {}),
  };
}

/**
 * The training split once, in id order, without augmentation, a batch at a time (the inputs only; each
 * batch is disposed once the consumer moves on): what BatchNorm's statistics are recomputed over.
 */
export async function* plainInputs(db: LoupeDb, trainable: TrainableModel, ids: string[], batchSize: number): AsyncGenerator<{ xs: tf.Tensor | tf.Tensor[]; size: number }> {
  for await (const rows of sampleChunks(db, ids, batchSize)) {
    const xs = await trainable.toInputs(rows, { training: false });
    try {
      yield { xs, size: rows.length };
    } finally {
      tf.dispose(xs);
    }
  }
}

export async function splitIds(db: LoupeDb, datasetId: string, split: Split): Promise<string[]> {
  const ids = (await db.samples.where('[datasetId+split]').equals([datasetId, split]).primaryKeys()) as string[];
  // Primary-key order is storage order; sort so a run's batches never depend on how rows were written.
  return ids.sort();
}

/** Labels of samples, read in chunks (the rows' image blobs stay on disk until read). */
async function labelsOf(db: LoupeDb, ids: string[]): Promise<(string | number)[]> {
  const labels: (string | number)[] = [];
  for await (const chunk of sampleChunks(db, ids, 500)) labels.push(...chunk.map((r) => r.label));
  return labels;
}

/** Texts and labels of samples (text tasks), read in chunks. */
async function textsOf(db: LoupeDb, ids: string[]): Promise<Pick<SampleRow, 'text' | 'label' | 'path'>[]> {
  const rows: Pick<SampleRow, 'text' | 'label' | 'path'>[] = [];
  for await (const chunk of sampleChunks(db, ids, 500)) rows.push(...chunk.map(({ text, label, path }) => ({ text, label, path })));
  return rows;
}

/** Train and validation ids of one cross-validation fold, drawn from the train and val splits together. */
async function foldIds(db: LoupeDb, spec: TrainJobSpec): Promise<[string[], string[]]> {
  const { k, index } = spec.fold!;
  const pool = await db.samples
    .where('[datasetId+split]')
    .anyOf([spec.datasetId, 'train'], [spec.datasetId, spec.validationSplit ?? 'val'])
    .toArray();
  const folds = assignFolds(pool.map(({ id, label }) => ({ id, label })), k, spec.seed);
  const ids = [...folds.keys()].sort();
  return [ids.filter((id) => folds.get(id) !== index), ids.filter((id) => folds.get(id) === index)];
}

/** The order an epoch visits the training samples in: shuffled by a seed derived from (run seed, epoch). */
export const epochOrder = (ids: readonly string[], seed: number, epoch: number): string[] => shuffled(ids, mulberry32(deriveSeed(seed, 'shuffle', epoch)));

/** `items` in consecutive groups of `size` (the last may be shorter). */
const chunk = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The generator that augments batch `index` (0-based) of an epoch. */
export const augmentRandom = (seed: number, epoch: number, index: number): (() => number) => mulberry32(deriveSeed(seed, 'augment', epoch, index));

/**
 * Streams one epoch's batches: ids shuffled with a seed derived from (run seed, epoch), samples read
 * a batch at a time, and the next batch prepared while the current one trains.
 */
function batchSource(db: LoupeDb, trainable: TrainableModel, ids: string[], spec: TrainJobSpec): BatchSource {
  return async function* (epoch: number) {
    const order = epochOrder(ids, spec.seed, epoch);
    let index = 0;
    const prepare = async (rows: import('$lib/db/types').SampleRow[]) => toBatch(trainable, rows, { training: true, random: augmentRandom(spec.seed, epoch, index++) });
    const chunks = sampleChunks(db, order, spec.batchSize);
    let next: Promise<Batch | undefined> = chunks.next().then((r) => (r.done ? undefined : prepare(r.value)));
    try {
      for (;;) {
        const batch = await next;
        if (!batch) return;
        next = chunks.next().then((r) => (r.done ? undefined : prepare(r.value)));
        yield batch;
      }
    } finally {
      // The loop stopped early (cancelled, failed, tab closing): free the batch prepared ahead.
      const ahead = await next.catch(() => undefined);
      if (ahead) tf.dispose([ahead.xs, ahead.ys]);
    }
  };
}

function makeOptimizer(spec: TrainJobSpec): tf.Optimizer {
  switch (spec.optimizer) {
    case 'adam':
      return adam(spec.learningRate);
    case 'sgd':
      return tf.train.momentum(spec.learningRate, 0.9);
    default:
      throw new TrainJobError(`optimizer must be adam or sgd, got ${JSON.stringify(spec.optimizer)}`);
  }
}

/**
 * K-fold cross-validation: one parent run and k child runs (one per validation fold) run one after
 * another; the parent records each metric's mean and standard deviation across folds.
 */
export interface KFoldResult {
  /** The parent run. */
  runId: string;
  /** `<metric>_mean` and `<metric>_std` across folds. */
  metrics: Record<string, number>;
  folds: { runId: string; metrics: Record<string, number> }[];
}

export async function runKFold(db: LoupeDb, spec: TrainJobSpec, k: number, context: TrainJobContext): Promise<KFoldResult> {
  validateSpec(spec);
  const parent = await RunTracker.create(db, {
    name: `${spec.name ?? spec.task} · ${k}-fold CV`,
    task: spec.task,
    params: { ...spec, kFolds: k },
    seed: spec.seed,
    datasetVersion: spec.datasetId,
  });
  context.onRunCreated?.(parent.id);
  await parent.start(context.backend.backend, context.backend.adapter);
  const results: KFoldResult['folds'] = [];
  try {
    for (let index = 0; index < k; index++) {
      context.onProgress?.({ kind: 'fold', index, k });
      const child = await runTrainJob(db, { ...spec, name: `${spec.name ?? spec.task} · fold ${index + 1}/${k}`, fold: { k, index } }, {
        ...context,
        onRunCreated: undefined,
        parentId: parent.id,
      });
      child.trainable.dispose();
      results.push({ runId: child.runId, metrics: child.metrics });
    }
    const summary = summarizeFolds(results.map((r) => r.metrics));
    const metrics: Record<string, number> = {};
    for (const [name, { mean, std }] of Object.entries(summary)) Object.assign(metrics, { [`${name}_mean`]: mean, [`${name}_std`]: std });
    await parent.complete(metrics);
    return { runId: parent.id, metrics, folds: results };
  } catch (error) {
    if (error instanceof TrainingCancelledError) await parent.cancel();
    else await parent.fail(`a fold failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

/** Lock held by whoever runs a run; a "running" run whose lock is free was interrupted. */
export const runLockName = (runId: string) => `loupe-run-${runId}`;

/**
 * Runs one training job end to end and records it as a run: queued → running → completed, or failed
 * with the reason, or cancelled. The caller has already activated the backend.
 */
export async function runTrainJob(db: LoupeDb, requested: TrainJobSpec, context: TrainJobContext): Promise<TrainJobResult> {
  validateSpec(requested);
  const spec = withDefaults(requested);
  const dataset = await db.datasets.get(spec.datasetId);
  if (!dataset) throw new TrainJobError(`dataset ${spec.datasetId} does not exist`);
  if (dataset.task !== spec.task) throw new TrainJobError(`dataset "${dataset.name}" is for ${dataset.task}, not ${spec.task}`);
  const tracker = await RunTracker.create(db, {
    name: spec.name ?? `${spec.task} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    task: spec.task,
    params: { ...spec },
    seed: spec.seed,
    datasetVersion: spec.datasetId,
    ...(context.parentId ? { parentId: context.parentId } : {}),
  });
  context.onRunCreated?.(tracker.id);
  return withLock(runLockName(tracker.id), () => executeRun(db, tracker, spec, dataset.name, context));
}

/**
 * Continues an interrupted run from its last checkpoint. On cpu and wasm it reaches the same
 * weights and metrics as a run that was never interrupted.
 */
export async function resumeTrainJob(db: LoupeDb, runId: string, context: TrainJobContext): Promise<TrainJobResult> {
  const run = await db.runs.get(runId);
  if (!run) throw new TrainJobError(`run ${runId} does not exist`);
  if (!run.resumable) throw new TrainJobError(`run "${run.name}" is ${run.status} and cannot be resumed`);
  const checkpoint = await latestCheckpoint(db, runId);
  const spec = jobSpecOf(run);
  const dataset = await db.datasets.get(spec.datasetId);
  if (!dataset) throw new TrainJobError(`dataset ${spec.datasetId} of run "${run.name}" no longer exists`);
  const tracker = RunTracker.attach(db, runId);
  context.onRunCreated?.(runId);
  // Points of an epoch that ran past the checkpoint are written again when that epoch reruns.
  await db.metricPoints.where('runId').equals(runId).and((p) => (p.epoch ?? 0) > (checkpoint?.epoch ?? 0)).delete();
  return withLock(runLockName(runId), () => executeRun(db, tracker, spec, dataset.name, context, checkpoint));
}

/**
 * Marks runs left "running" by a closed tab (or a crashed trainer worker: `cause`) as interrupted and
 * resumable: their lock is free, so no tab or worker is running them. Returns the runs it marked.
 */
export async function markInterruptedRuns(db: LoupeDb, cause = 'the tab closed'): Promise<string[]> {
  const running = await db.runs.where('status').equals('running').toArray();
  // Each run's lock is awaited, not just tested: right after a reload the closing document's worker can
  // still hold it for a moment, and a run another tab is really training ends with its own status.
  const marked = await Promise.all(
    running.map((run) =>
      withLock(runLockName(run.id), async () => {
        if ((await db.runs.get(run.id))?.status !== 'running') return undefined;
        const checkpoint = await latestCheckpoint(db, run.id);
        // Nobody saw the tab close: its session ended with the last thing it wrote.
        const points = await db.metricPoints.where('runId').equals(run.id).toArray();
        const lastWrite = points.reduce((last, p) => Math.max(last, p.ts), Math.max(checkpoint?.createdAt ?? 0, run.sessionStartedAt ?? run.startedAt ?? 0));
        await db.runs.update(run.id, {
          status: 'failed',
          resumable: true,
          trainingMs: withSession(run, lastWrite),
          failureReason: checkpoint
            ? `Interrupted: ${cause} during epoch ${checkpoint.epoch + 1}. Resume continues after epoch ${checkpoint.epoch}.`
            : `Interrupted: ${cause} during the first epoch. Resume starts it again.`,
        });
        return run.id;
      }),
    ),
  );
  return marked.filter((id): id is string => id !== undefined);
}

async function executeRun(
  db: LoupeDb,
  tracker: RunTracker,
  spec: TrainJobSpec,
  datasetName: string,
  context: TrainJobContext,
  checkpoint?: CheckpointData,
): Promise<TrainJobResult> {
  let trainable: TrainableModel | undefined;
  let frozen: FrozenFeatures | undefined;
  let frozenNow = false;
  const optimizer = makeOptimizer(spec);
  try {
    await tracker.start(context.backend.backend, context.backend.adapter);
    const [trainIds, valIds] = spec.fold
      ? await foldIds(db, spec)
      : await Promise.all([splitIds(db, spec.datasetId, 'train'), splitIds(db, spec.datasetId, spec.validationSplit ?? 'val')]);
    if (trainIds.length === 0) throw new TrainJobError(`dataset "${datasetName}" has no samples in its train split`);
    if (valIds.length === 0) throw new TrainJobError(`dataset "${datasetName}" has no samples in its ${spec.validationSplit ?? 'val'} split`);
    // A classifier's classes are its dataset's (any label set; the task's preset when none is stored).
    const labels = (await db.datasets.get(spec.datasetId))?.labels;
    const trainingTargets = TASKS[spec.task].kind === 'regression' ? await labelsOf(db, trainIds).then((l) => l.map(Number)) : undefined;
    const trainingTexts = TASKS[spec.task].input === 'text' ? await textsOf(db, trainIds) : undefined;
    const { resolved, plan } = await firstWeights(db, tracker.id, spec, labels, context, checkpoint !== undefined);
    try {
      trainable = createTrainable(spec.task, spec.model, {
        seed: spec.seed,
        labels,
        trainingTargets,
        trainingTexts,
        batchNormEpsilon: plan?.batchNormEpsilon,
        headFrom: plan?.headFrom,
      });
      if (resolved && plan && !checkpoint) {
        const initialWeights = await applyInit(trainable, resolved, plan);
        await db.runs.update(tracker.id, { initialWeights });
      }
    } finally {
      if (resolved?.kind === 'version') resolved.parent.dispose();
    }
    const model = trainable;
    const fineTune = 'fineTune' in spec.model ? spec.model.fineTune : undefined;
    // Made before anything is frozen: it lists every weight that trains at some point.
    const schedule = fineTune ? scheduleDriver(fineTune, backbonesOf(model.model), model.model, optimizer, spec.epochs, spec.learningRate) : undefined;
    const train = batchSource(db, model, trainIds, spec);
    // Frozen epochs train the head on the backbone's features (computed outside the gradient tape).
    const split = (fineTune?.freezeEpochs ?? 0) > 0 ? splitAtBackbones(model.model) : undefined;
    frozen = split
      ? new FrozenFeatures(split, train, (epoch) => chunk(epochOrder(trainIds, spec.seed, epoch), spec.batchSize), context.reuseFeatures !== false && !augments(model.augmentation))
      : undefined;
    const earlyStopping = spec.earlyStopping ? new EarlyStopping(spec.earlyStopping) : undefined;
    let resumeFrom: TrainLoopOptions['resumeFrom'];
    if (checkpoint) {
      await restoreCheckpoint(checkpoint, model.model, optimizer);
      if (checkpoint.loopState.earlyStopping) earlyStopping?.restore(checkpoint.loopState.earlyStopping);
      const { bestWeights } = checkpoint.loopState;
      resumeFrom = {
        history: checkpoint.loopState.history,
        bestWeights: bestWeights ? await decodeTensors(bestWeights.specs, bestWeights.shards) : undefined,
      };
    }
    const result = await trainLoop({
      model: model.model,
      optimizer,
      loss: model.loss,
      train,
      batchesPerEpoch: Math.ceil(trainIds.length / spec.batchSize),
      epochs: spec.epochs,
      startEpoch: (checkpoint?.epoch ?? 0) + 1,
      resumeFrom,
      // While frozen, validation too runs the head on the backbone's features, kept from the first frozen epoch.
      validate: async () => valPrefixed((await evaluateSamples(db, model, valIds, spec.batchSize, frozenNow ? frozen?.validation(model) : undefined)).metrics),
      earlyStopping,
      onEpochEnd: async (epoch, metrics, state) => {
        tracker.log(epoch, metrics, epoch);
        await tracker.flush();
        const checkpointId = await saveCheckpoint(db, tracker.id, epoch, model.model, optimizer, {
          history: state.history,
          earlyStopping: earlyStopping?.state(),
          bestWeights: state.bestWeights
            ? await encodeTensors(state.bestWeights.map((tensor, i) => ({ name: `best_${i}`, tensor })))
            : undefined,
        });
        context.onProgress?.({ kind: 'checkpoint', epoch, checkpointId });
      },
      onProgress: context.onProgress,
      signal: context.signal,
      readEvery: spec.readEvery,
      shouldStop: context.shouldStop,
      microBatch: microBatchFor(model.model, context.backend.backend, spec.batchSize),
      variables: schedule?.variables,
      beforeEpoch: schedule
        ? (epoch) => {
            const rates = schedule.beforeEpoch(epoch);
            frozenNow = rates.frozen;
            if (rates.frozen && frozen) {
              const message = frozen.cached
                ? `epoch ${epoch}: backbone frozen, the head trains on the backbone features kept from an earlier epoch`
                : `epoch ${epoch}: backbone frozen, the head trains on its features (no backbone gradients)`;
              context.onProgress?.({ kind: 'log', level: 'info', message });
              return { forward: frozen.head, train: frozen.batches };
            }
            frozen?.dropCache();
          }
        : undefined,
    });
    // When asked: the running statistics kept during training describe weights that kept moving; the saved
    // model is then scored and served with statistics of its own final weights (batch-norm-stats.ts). Layers
    // still frozen keep theirs. Off by default: it helped short runs and cost a long one (docs/fine-tuning.md).
    const recomputed = spec.recomputeBatchNorm === true ? await recomputeBatchNormStatistics(model.model, plainInputs(db, model, trainIds, spec.batchSize)) : undefined;
    if (recomputed && recomputed.layers > 0) {
      const message = `recomputed the running statistics of ${recomputed.layers} BatchNorm layers over ${recomputed.examples} training samples (no augmentation)`;
      context.onProgress?.({ kind: 'log', level: 'info', message });
    }
    // After the recompute, which leaves a still-frozen backbone's statistics (those its head trained on) as they are.
    // A run that ends frozen leaves its backbone trainable again: a warm start from its version trains it.
    if (schedule) setBackbonesFrozen(backbonesOf(model.model), false);
    // With early stopping the best epoch's weights were restored: report that epoch's metrics.
    const reported = result.history.find((h) => h.epoch === (result.bestEpoch ?? result.lastEpoch)) ?? result.history.at(-1);
    await saveFinalModel(db, tracker.id, result.lastEpoch, model.model);
    const final = await evaluateSamples(db, model, valIds, spec.batchSize);
    // Recomputed statistics make a different model than any epoch's: its validation metrics are the final pass's.
    const metrics = { ...reported?.metrics, ...(recomputed && recomputed.layers > 0 ? valPrefixed(final.metrics) : {}), epochs: result.epochsRun };
    const analysis = analyzeErrors(model.task, final.rows.map(model.target), final.predictions, spec.seed, model.labels);
    await db.runs.update(tracker.id, { analysis, trainedOn: trainedOn(trainingTargets, final.predictions) });
    await tracker.complete(metrics);
    context.onProgress?.({ kind: 'done', summary: metrics });
    return { runId: tracker.id, metrics, trainable };
  } catch (error) {
    trainable?.dispose();
    if (error instanceof TrainingCancelledError) {
      await tracker.cancel();
      throw error;
    }
    if (isQuotaError(error)) return failForStorage(db, tracker, error, context);
    const inputSize = 'inputSize' in spec.model ? spec.model.inputSize : undefined;
    const reason = failureReason(error, { batchSize: spec.batchSize, inputSize, backend: context.backend.backend });
    await tracker.fail(reason);
    context.onProgress?.({ kind: 'failed', reason });
    if (classifyFailure(error) === 'device-lost') {
      // The checkpoints are intact: let the caller continue on another backend.
      await db.runs.update(tracker.id, { resumable: true });
      throw new DeviceLostError(context.backend.backend, error instanceof Error ? error.message : String(error));
    }
    throw error instanceof Error ? Object.assign(error, { message: reason }) : new Error(reason);
  } finally {
    frozen?.dispose();
    optimizer.dispose();
    // tfjs's MomentumOptimizer.dispose skips its parent's, leaving the learning-rate scalar behind (one
    // tensor per SGD run).
    if (optimizer instanceof tf.MomentumOptimizer) (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}

/**
 * Storage filled up during a run (a checkpoint, metric points): the run is failed with a reason that says
 * so, and is resumable from its last checkpoint, which the aborted write left intact. The row update is
 * small, so it usually fits where the checkpoint did not; if even that is refused, the run stays
 * "running" and `markInterruptedRuns` offers to resume it on the next load.
 */
async function failForStorage(db: LoupeDb, tracker: RunTracker, error: unknown, context: TrainJobContext): Promise<never> {
  const full = asStorageFull(error, 'the training run') as StorageFullError;
  const checkpoint = await latestCheckpoint(db, tracker.id).catch(() => undefined);
  const reason = `${full.message} Resume ${checkpoint ? `continues after epoch ${checkpoint.epoch}` : 'starts the first epoch again'}.`;
  context.onProgress?.({ kind: 'failed', reason });
  await tracker.fail(reason);
  await db.runs.update(tracker.id, { resumable: true });
  throw Object.assign(full, { message: reason });
}

/**
 * The first weights of a run's model, fetched through the context's resolver, and what building the
 * model needs of them. A resumed run takes its weights from the checkpoint: a hub or file start only
 * needs its recorded BatchNorm epsilon (so it resumes offline), a version start its head's metadata.
 */
async function firstWeights(
  db: LoupeDb,
  runId: string,
  spec: TrainJobSpec,
  labels: string[] | undefined,
  context: TrainJobContext,
  resuming: boolean,
): Promise<{ resolved?: ResolvedInit; plan?: InitPlan }> {
  const init = parseInit(spec.init);
  if (init.kind === 'scratch') return {};
  const recorded = resuming ? (await db.runs.get(runId))?.initialWeights : undefined;
  if (recorded && recorded.kind !== 'version') return { plan: { batchNormEpsilon: recorded.batchNormEpsilon, head: false } };
  if (!context.initialWeights) throw new TrainJobError(`init "${spec.init}" needs its weights fetched, which this caller cannot do`);
  const resolved = await context.initialWeights(init, spec);
  try {
    return { resolved, plan: planInit(resolved, spec, labels) };
  } catch (error) {
    if (resolved.kind === 'version') resolved.parent.dispose();
    throw error;
  }
}
