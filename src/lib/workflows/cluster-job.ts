import { unzipSync } from 'fflate';
import type { LoupeDb } from '$lib/db/db';
import type { ExternalTraining, Lineage } from '$lib/db/registry-shapes';
import type { TrainJobSpec } from '$lib/db/specs';
import type { DatasetRow } from '$lib/db/types';
import { exportDataset } from '$lib/datasets/export';
import { sha256Hex } from '$lib/hash';
import type { AugmentOptions } from '$lib/images/augment';
import { ModelRegistry } from '$lib/registry/registry';
import type { ModelVersionRow } from '$lib/db/types';
import { createTrainable, TASKS } from '$lib/tasks/registry';
import type { TrainableModel } from '$lib/tasks/types';
import { EarlyStopping } from '$lib/training/early-stopping';
import { applyInit, parseInit, planInit, type InitialWeightsResolver } from '$lib/training/init';
import { APP_VERSION, GIT_COMMIT } from '$lib/version';
import { saveToBlobs } from '$models/io';
import { TASK_BATCH_NORM_MOMENTUM } from '$models/config';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile } from '$models/weights/safetensors';
import { loadTaskCheckpoint, taskCheckpoint } from '$models/weights/task-checkpoint';
import { CLUSTER_ARCHITECTURES } from './cluster-architectures';

export { CLUSTER_ARCHITECTURES } from './cluster-architectures';

/**
 * A training job handed to PyTorch (DistributedDataParallel) and its weights taken back: the export writes
 * the dataset version as stored, job.json and the first weights; `models/cluster/` is the Python that runs
 * it (docs/scale.md). Only the torchvision-backbone architectures travel: theirs are torchvision's exactly.
 */
export const JOB_FORMAT = 'loupe-job';

/** Backbones' BatchNorm epsilon when the first weights do not say otherwise: torchvision's. */
const DEFAULT_EPSILON: Record<string, number> = { resnet18: 1e-5, 'mobilenetv3-small': 1e-3 };

export class ClusterJobError extends Error {
  override name = 'ClusterJobError';
}

/** What job.json holds; `model` is what the Python builds (the tfjs model's metadata plus BatchNorm settings). */
export interface ClusterJobFile {
  format: typeof JOB_FORMAT;
  formatVersion: 1;
  /** SHA-256 of this file without the field (`jobHash`), keys sorted: what lineage and metrics.json name. */
  jobHash: string;
  task: string;
  kind: 'regression' | 'classification';
  datasetVersion: string;
  seed: number;
  spec: TrainJobSpec;
  model: Record<string, unknown> & { architecture: string; backbone: string; inputs: string[]; inputSize: number };
  augmentation: AugmentOptions;
  /** `init.safetensors`: the studio's first weights (seeded initialisers, or the init's checkpoint) in torch naming. */
  initialWeights: { file: string; sha256: string; init: string };
  createdWith: { appVersion: string; gitCommit?: string };
}

/** JSON with sorted keys, so the hash does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export async function jobHashOf(job: Omit<ClusterJobFile, 'jobHash'> & { jobHash?: string }): Promise<string> {
  const { jobHash: _, ...rest } = job;
  return sha256Hex(canonical(rest));
}

async function trainingYears(db: LoupeDb, datasetId: string): Promise<number[]> {
  const rows = await db.samples.where('[datasetId+split]').equals([datasetId, 'train']).toArray();
  return rows.map((r) => Number(r.label));
}

function checkArchitecture(spec: TrainJobSpec): void {
  if (!(CLUSTER_ARCHITECTURES as readonly string[]).includes(spec.model.architecture)) {
    throw new ClusterJobError(`a cluster job trains torchvision backbones (${CLUSTER_ARCHITECTURES.join(', ')}); ${spec.model.architecture} has no PyTorch counterpart here`);
  }
  if (spec.fold) throw new ClusterJobError('a cross-validation fold cannot be exported: export the job without k-fold');
}

function modelOf(trainable: TrainableModel, epsilon: number | undefined, spec: TrainJobSpec): ClusterJobFile['model'] {
  const { task: _, ...metadata } = trainable.metadata as ClusterJobFile['model'] & { task?: string };
  const fineTune = 'fineTune' in spec.model ? spec.model.fineTune : undefined;
  return {
    ...metadata,
    batchNormEpsilon: epsilon ?? DEFAULT_EPSILON[metadata.backbone]!,
    batchNormMomentum: TASK_BATCH_NORM_MOMENTUM,
    ...(fineTune ? { fineTune } : {}),
  };
}

/**
 * The files of an exported job, by path: `job.json`, `init.safetensors`, `dataset/…` (the version's
 * export, unzipped) and whatever `sources` holds (the Python package and its README).
 * @example const files = await buildClusterJob(db, spec, { sources }); // { 'job.json': …, 'dataset/loupe-dataset.json': …, … }
 */
export async function buildClusterJob(
  db: LoupeDb,
  spec: TrainJobSpec,
  options: { sources: Record<string, Uint8Array>; initialWeights?: InitialWeightsResolver },
): Promise<{ job: ClusterJobFile; files: Record<string, Uint8Array> }> {
  checkArchitecture(spec);
  const dataset = await db.datasets.get(spec.datasetId);
  if (!dataset) throw new ClusterJobError(`dataset version ${spec.datasetId} does not exist`);
  const definition = TASKS[spec.task];
  const init = parseInit(spec.init);
  const resolved = init.kind === 'scratch' ? undefined : await options.initialWeights?.(init, spec);
  if (init.kind !== 'scratch' && !resolved) throw new ClusterJobError(`init "${spec.init}" needs its weights fetched, which this caller cannot do`);
  let trainable: TrainableModel | undefined;
  try {
    const plan = resolved ? planInit(resolved, spec, dataset.labels) : undefined;
    trainable = createTrainable(spec.task, spec.model, {
      seed: spec.seed,
      labels: dataset.labels,
      trainingTargets: definition.kind === 'regression' ? await trainingYears(db, dataset.id) : undefined,
      batchNormEpsilon: plan?.batchNormEpsilon,
      headFrom: plan?.headFrom,
    });
    if (resolved && plan) await applyInit(trainable, resolved, plan);
    const model = modelOf(trainable, plan?.batchNormEpsilon, spec);
    const weights = serializeSafetensors(await taskCheckpoint(trainable.model, { architecture: model.architecture, backbone: model.backbone }));
    const earlyStopping = spec.earlyStopping ? { ...spec.earlyStopping, mode: new EarlyStopping(spec.earlyStopping).mode } : undefined;
    const body: Omit<ClusterJobFile, 'jobHash'> = {
      format: JOB_FORMAT,
      formatVersion: 1,
      task: spec.task,
      kind: definition.kind === 'regression' ? 'regression' : 'classification',
      datasetVersion: dataset.id,
      seed: spec.seed,
      spec: { ...spec, ...(earlyStopping ? { earlyStopping } : {}) },
      model,
      augmentation: trainable.augmentation ?? { flip: false, rotateDegrees: 0, brightness: 0, contrast: 0 },
      initialWeights: { file: 'init.safetensors', sha256: await sha256Hex(weights), init: spec.init ?? 'scratch' },
      createdWith: { appVersion: APP_VERSION, ...(GIT_COMMIT ? { gitCommit: GIT_COMMIT } : {}) },
    };
    const job: ClusterJobFile = { ...body, jobHash: await jobHashOf(body) };
    const files: Record<string, Uint8Array> = { ...options.sources };
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(await (await exportDataset(db, dataset.id)).arrayBuffer())))) {
      if (!name.endsWith('/')) files[`dataset/${name}`] = bytes;
    }
    files['job.json'] = new TextEncoder().encode(`${JSON.stringify(job, null, 1)}\n`);
    files['init.safetensors'] = weights;
    return { job, files };
  } finally {
    trainable?.dispose();
    if (resolved?.kind === 'version') resolved.parent.dispose();
  }
}

/** A job.json read back: the format, and the hash recomputed over its content (an edited job is refused). */
export async function parseClusterJob(text: string, file = 'job.json'): Promise<ClusterJobFile> {
  let job: ClusterJobFile;
  try {
    job = JSON.parse(text) as ClusterJobFile;
  } catch (error) {
    throw new ClusterJobError(`${file} is not valid JSON (${(error as Error).message})`);
  }
  if (job?.format !== JOB_FORMAT) throw new ClusterJobError(`${file} is not a Loupe job (format ${JSON.stringify(job?.format)}); export one with loupe export-job`);
  const hash = await jobHashOf(job);
  if (hash !== job.jobHash) throw new ClusterJobError(`${file} was changed after export: its content hashes to ${hash.slice(0, 12)}…, not its jobHash ${String(job.jobHash).slice(0, 12)}…`);
  return job;
}

/** What a trained job's metrics.json says (models/cluster/loupe_ddp/train.py writes it). */
export interface ClusterMetricsFile {
  split: 'test' | 'val';
  samples: number;
  metrics: Record<string, number>;
  val: { samples: number; metrics: Record<string, number> };
  task: string;
  datasetVersion: string;
  jobHash: string;
  epochs: number;
  keptEpoch: number;
  history: { epoch: number; metrics: Record<string, number> }[];
  trainedBy: { engine: 'pytorch-ddp'; processes: number; device: string; backend?: string; torch?: string; mixedPrecision?: boolean; seconds?: number };
}

/**
 * Trained weights back into the registry as a new version of `name`, after checking that they are the
 * job's (job hash), of its dataset version (the dataset already imported here: `dataset`), and fit its
 * architecture tensor by tensor. The version's lineage says who trained it; its metrics are the kept
 * epoch's, as a run's are. Returns the row and the trainable (the caller scores and disposes it).
 */
export async function importTrainedWeights(
  db: LoupeDb,
  input: { job: ClusterJobFile; weights: Uint8Array; metrics: ClusterMetricsFile; dataset: DatasetRow; name: string },
): Promise<{ row: ModelVersionRow; trainable: TrainableModel }> {
  const { job, metrics, dataset } = input;
  checkArchitecture(job.spec);
  if (metrics.jobHash !== job.jobHash) throw new ClusterJobError(`metrics.json is of job ${String(metrics.jobHash).slice(0, 12)}…, not this job.json's ${job.jobHash.slice(0, 12)}…`);
  if (dataset.id !== job.datasetVersion) {
    throw new ClusterJobError(`the data is dataset version ${dataset.id.slice(0, 12)}…, but the job was exported from ${job.datasetVersion.slice(0, 12)}… (a different dataset hash): give the job's own dataset/ folder`);
  }
  if (metrics.datasetVersion !== job.datasetVersion) throw new ClusterJobError(`metrics.json names dataset version ${String(metrics.datasetVersion).slice(0, 12)}…, not the job's ${job.datasetVersion.slice(0, 12)}…`);
  let file: SafetensorsFile;
  try {
    file = parseSafetensors(input.weights);
  } catch (error) {
    throw new ClusterJobError(`the weights are not a safetensors file: ${(error as Error).message}`);
  }
  for (const key of ['architecture', 'backbone'] as const) {
    const stated = file.metadata[key];
    if (stated !== undefined && stated !== job.model[key]) throw new ClusterJobError(`the weights are of a ${stated} ${key}, but the job's model is ${job.model[key]}`);
  }
  if (file.metadata.jobHash !== undefined && file.metadata.jobHash !== job.jobHash) throw new ClusterJobError(`the weights were trained by job ${file.metadata.jobHash.slice(0, 12)}…, not this job.json's ${job.jobHash.slice(0, 12)}…`);
  const trainable = createTrainable(job.spec.task, job.spec.model, {
    seed: job.seed,
    labels: dataset.labels,
    trainingTargets: TASKS[job.spec.task].kind === 'regression' ? await trainingYears(db, dataset.id) : undefined,
    batchNormEpsilon: job.model.batchNormEpsilon as number,
    ...(job.model.yearScale ? { headFrom: { yearScale: job.model.yearScale } } : {}),
  });
  try {
    try {
      loadTaskCheckpoint(trainable.model, file);
    } catch (error) {
      throw new ClusterJobError((error as Error).message);
    }
    const by = metrics.trainedBy;
    const trainedBy: ExternalTraining = {
      engine: 'pytorch-ddp',
      summary: `trained by PyTorch DDP, ${by.processes} process${by.processes === 1 ? '' : 'es'} on ${by.device}`,
      jobHash: job.jobHash,
      processes: by.processes,
      device: by.device,
      ...(by.backend ? { backend: by.backend } : {}),
      ...(by.torch ? { torch: by.torch } : {}),
      ...(by.mixedPrecision !== undefined ? { mixedPrecision: by.mixedPrecision } : {}),
      ...(by.seconds !== undefined ? { seconds: by.seconds } : {}),
    };
    const kept = metrics.history.find((h) => h.epoch === metrics.keptEpoch)?.metrics ?? {};
    const lineage: Lineage = { task: job.spec.task, datasetVersion: dataset.id, params: job.spec, seed: job.seed, trainedBy };
    const saved = await saveToBlobs(trainable.model);
    const row = await new ModelRegistry(db).register({
      name: input.name,
      ...saved,
      metrics: { ...kept, epochs: metrics.epochs },
      lineage,
      tags: { task: job.spec.task, trainedBy: 'pytorch-ddp', jobHash: job.jobHash.slice(0, 12) },
    });
    return { row, trainable };
  } catch (error) {
    trainable.dispose();
    throw error;
  }
}
