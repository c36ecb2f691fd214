import * as v from 'valibot';
import type { TaskName } from '$lib/db/types';
import type { SplitFractions } from '$lib/datasets/types';
import { describeIssue } from '$lib/registry/gate';
import type { ModelSpec } from '$lib/tasks/registry';
import { modelSpecSchema, settingsObject } from '$lib/tasks/model-specs';
import { defaultModelOf, TASKS, taskOfArchitecture } from '$lib/tasks/registry';
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
  /** An image model's first weights (`--init` wins): scratch, hub:<id>, file:<path>, version:<bundle.zip>. */
  init?: string;
  /** Image models: recompute BatchNorm statistics over the training split after the last epoch (default true). */
  recomputeBatchNorm?: boolean;
}

const positiveInt = v.pipe(v.number('must be a whole number ≥ 1'), v.integer('must be a whole number'), v.minValue(1, 'must be ≥ 1'));
const fraction = v.pipe(v.number('must be a number in [0, 1]'), v.minValue(0, 'must be ≥ 0'), v.maxValue(1, 'must be ≤ 1'));
const got = (issue: v.BaseIssue<unknown>) => `, got ${issue.received}`;

/** The `train.json` schema of a task: its models' settings and the metrics early stopping can watch. */
function configSchema(task: TaskName) {
  const { metricNames } = TASKS[task];
  const monitors = ['loss', 'val_loss', ...metricNames.map((m) => `val_${m}`)];
  return settingsObject('train.json', {
    name: v.optional(v.pipe(v.string('must be a model name'), v.nonEmpty('must not be empty'))),
    model: v.optional(modelSpecSchema(task)),
    epochs: v.optional(positiveInt),
    batchSize: v.optional(positiveInt),
    optimizer: v.optional(v.picklist(['adam', 'sgd'], (issue) => `must be adam or sgd${got(issue)}`)),
    learningRate: v.optional(v.pipe(v.number('must be a number > 0'), v.gtValue(0, 'must be > 0'))),
    seed: v.optional(v.pipe(v.number('must be a whole number'), v.integer('must be a whole number'))),
    // false, or the object: an object is checked field by field, anything else named as neither.
    earlyStopping: v.optional(
      v.lazy((input) =>
        typeof input === 'object' && input !== null
          ? settingsObject('earlyStopping', {
              monitor: v.picklist(monitors, (issue) => `must be one of ${monitors.join(', ')} for ${task}${got(issue)}`),
              patience: v.pipe(v.number('must be a whole number ≥ 0'), v.integer('must be a whole number ≥ 0'), v.minValue(0, 'must be ≥ 0')),
              minDelta: v.optional(v.pipe(v.number('must be a number ≥ 0'), v.minValue(0, 'must be ≥ 0'))),
              mode: v.optional(v.picklist(['min', 'max'], (issue) => `must be min or max${got(issue)}`)),
            })
          : v.literal(false, (issue) => `must be false or {"monitor", "patience", "minDelta"?, "mode"?}${got(issue)}`),
      ),
    ),
    splits: v.optional(
      v.pipe(
        settingsObject('splits', { train: fraction, val: fraction, test: fraction }),
        v.check((f) => Math.abs(f.train + f.val + f.test - 1) < 1e-9, 'train + val + test must be 1'),
        v.check((f) => f.train > 0, 'train must be > 0'),
      ),
    ),
    imageMaxSide: v.optional(v.pipe(positiveInt, v.maxValue(4096, 'must be ≤ 4096'))),
    init: v.optional(v.pipe(v.string('must be scratch, hub:<id>, file:<path> or version:<bundle.zip>'), v.nonEmpty('must not be empty'))),
    recomputeBatchNorm: v.optional(v.boolean((issue) => `must be true or false${got(issue)}`)),
  });
}

/**
 * Checks a parsed `train.json` for a task — every setting, the model's per architecture; errors name
 * the file and the field (`train.json: model.augmentation: must be one of none, flip, default, got "nope"`).
 * A model of another task is a `WrongTaskError`.
 * @example parseTrainConfig(JSON.parse(text), 'train.json', 'text-classification') // { epochs: 3, … }
 */
export function parseTrainConfig(value: unknown, file: string, task: TaskName): TrainConfig {
  const architecture = (value as { model?: { architecture?: unknown } } | null)?.model?.architecture;
  if (typeof architecture === 'string' && !(TASKS[task].architectures as readonly string[]).includes(architecture)) {
    const owner = taskOfArchitecture(architecture);
    const valid = TASKS[task].architectures.join(', ');
    if (owner) throw new WrongTaskError(`${file}: model.architecture "${architecture}" is a ${owner.name} model, but --task is ${task} (use ${valid})`);
    throw new BadFormatError(`${file}: model.architecture "${architecture}" is not supported; valid for ${task}: ${valid}`);
  }
  const parsed = v.safeParse(configSchema(task), value);
  if (!parsed.success) throw new BadFormatError(`${file}: ${describeIssue(parsed.issues[0])}`);
  return parsed.output as TrainConfig;
}

/** The Train page's default model of a task, on data of `preset` (the sentiment preset has its own). */
export function defaultModel(task: TaskName, preset?: string): ModelSpec {
  return defaultModelOf(task, preset);
}

/** The training job for a task and dataset version, from the config and command-line overrides (which win). */
export function jobSpec(task: TaskName, datasetId: string, config: TrainConfig, overrides: { epochs?: number; seed?: number; name?: string }, preset?: string): TrainJobSpec {
  const { defaults, primaryMetric } = TASKS[task];
  const earlyStopping = config.earlyStopping === false ? undefined : (config.earlyStopping ?? { monitor: `val_${primaryMetric}`, patience: defaults.patience });
  return {
    name: overrides.name ?? config.name,
    task,
    datasetId,
    model: config.model ?? defaultModel(task, preset),
    epochs: overrides.epochs ?? config.epochs ?? defaults.epochs,
    batchSize: config.batchSize ?? defaults.batchSize,
    optimizer: config.optimizer ?? 'adam',
    learningRate: config.learningRate ?? defaults.learningRate,
    seed: overrides.seed ?? config.seed ?? 42,
    ...(earlyStopping ? { earlyStopping } : {}),
    ...(config.recomputeBatchNorm !== undefined ? { recomputeBatchNorm: config.recomputeBatchNorm } : {}),
  };
}
