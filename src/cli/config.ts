import * as v from 'valibot';
import type { TaskName } from '$lib/db/types';
import type { SplitFractions } from '$lib/datasets/types';
import { describeIssue } from '$lib/registry/gate';
import type { ModelSpec } from '$lib/tasks/registry';
import { TASKS, taskOfArchitecture } from '$lib/tasks/registry';
import type { TrainJobSpec } from '$lib/training/job';
import { BadFormatError, WrongTaskError } from './errors';

/** A `train.json`: the Train page's settings as a file. Every field is optional; defaults are the page's. */
export interface TrainConfig {
  name?: string;
  model?: ModelSpec;
  epochs?: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd';
  learningRate?: number;
  seed?: number;
  /** `false` turns it off; by default it watches the task's primary validation metric with patience 3. */
  earlyStopping?: TrainJobSpec['earlyStopping'] | false;
  /** How samples without a split of their own are split (default 0.8 / 0.1 / 0.1, stratified, seeded). */
  splits?: SplitFractions;
  /** Longest side of stored images (default 256, as in the studio). */
  imageMaxSide?: number;
}

const positiveInt = v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be ≥ 1'));
const fraction = v.pipe(v.number(), v.minValue(0, 'must be ≥ 0'), v.maxValue(1, 'must be ≤ 1'));

const ConfigSchema = v.strictObject({
  name: v.optional(v.pipe(v.string(), v.nonEmpty())),
  // The task registry checks the rest of the spec (and knows every architecture) when training starts.
  model: v.optional(v.looseObject({ architecture: v.pipe(v.string('must name the architecture, e.g. "fasttext"'), v.nonEmpty('must name the architecture')) })),
  epochs: v.optional(positiveInt),
  batchSize: v.optional(positiveInt),
  optimizer: v.optional(v.picklist(['adam', 'sgd'], 'must be adam or sgd')),
  learningRate: v.optional(v.pipe(v.number(), v.gtValue(0, 'must be > 0'))),
  seed: v.optional(v.pipe(v.number(), v.integer('must be a whole number'))),
  earlyStopping: v.optional(
    v.union([
      v.literal(false),
      v.strictObject({
        monitor: v.string(),
        patience: v.pipe(v.number(), v.integer(), v.minValue(0)),
        minDelta: v.optional(v.number()),
        mode: v.optional(v.picklist(['min', 'max'])),
      }),
    ], 'must be false or {"monitor", "patience", "minDelta"?, "mode"?}'),
  ),
  splits: v.optional(v.strictObject({ train: fraction, val: fraction, test: fraction })),
  imageMaxSide: v.optional(v.pipe(positiveInt, v.maxValue(4096, 'must be ≤ 4096'))),
});

/**
 * Checks a parsed `train.json`; errors name the file and the field.
 * @example parseTrainConfig(JSON.parse(text), 'train.json') // { epochs: 3, … }
 */
export function parseTrainConfig(value: unknown, file: string): TrainConfig {
  const parsed = v.safeParse(ConfigSchema, value);
  if (!parsed.success) throw new BadFormatError(`${file}: ${describeIssue(parsed.issues[0])}`);
  return parsed.output as TrainConfig;
}

/** Refuses, before any data is read, a config whose model is for another task, naming the file and the field. */
export function checkConfigTask(config: TrainConfig, task: TaskName, file: string): void {
  const architecture = config.model?.architecture;
  const owner = architecture ? taskOfArchitecture(architecture) : undefined;
  if (architecture && owner && owner.name !== task) {
    throw new WrongTaskError(`${file}: model.architecture "${architecture}" is a ${owner.name} model, but --task is ${task} (use ${TASKS[task].architectures.join(' or ')})`);
  }
}

/** The Train page's default model of a task. */
export function defaultModel(task: TaskName): ModelSpec {
  return structuredClone(TASKS[task].defaults.model);
}

/** The training job for a task and dataset version, from the config and command-line overrides (which win). */
export function jobSpec(task: TaskName, datasetId: string, config: TrainConfig, overrides: { epochs?: number; seed?: number; name?: string }): TrainJobSpec {
  const { defaults, primaryMetric } = TASKS[task];
  const earlyStopping = config.earlyStopping === false ? undefined : (config.earlyStopping ?? { monitor: `val_${primaryMetric}`, patience: defaults.patience });
  return {
    name: overrides.name ?? config.name,
    task,
    datasetId,
    model: config.model ?? defaultModel(task),
    epochs: overrides.epochs ?? config.epochs ?? defaults.epochs,
    batchSize: config.batchSize ?? defaults.batchSize,
    optimizer: config.optimizer ?? 'adam',
    learningRate: config.learningRate ?? defaults.learningRate,
    seed: overrides.seed ?? config.seed ?? 42,
    ...(earlyStopping ? { earlyStopping } : {}),
  };
}
