import type { ParamValue } from '$lib/db/sweep-shapes';
import type { TaskName } from '$lib/db/types';
import { defaultModelOf, TASKS, type ModelSpec } from '$lib/tasks/registry';
import type { Augmentation, AugmentationSettings, FineTuneSchedule } from '$lib/db/specs';
import { augmentationSettings, resolveAugmentation } from '$lib/images/augment';
import { parseInit } from '$lib/training/init';
import type { TrainJobSpec } from '$lib/training/job';

/**
 * The training settings a sweep parameter may set, per task, and how each one lands in a `TrainJobSpec`.
 * Names are the Train page's (camelCase), so a sweep's parameters read like a run's params.
 */

export type { ParamValue };

export interface Setting {
  name: string;
  /** What values fit, in words (for error messages and the docs). */
  expects: string;
  /** `int`/`number` settings may take min/max distributions; `choice` settings only take values. */
  kind: 'int' | 'number' | 'choice';
  valid: (value: ParamValue) => boolean;
  apply: (spec: TrainJobSpec, value: ParamValue) => void;
}

const isInt = (v: ParamValue, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNumber = (v: ParamValue, min: number, max: number, openMin = false): v is number =>
  typeof v === 'number' && Number.isFinite(v) && (openMin ? v > min : v >= min) && v <= max;
const oneOf = (v: ParamValue, options: readonly string[]): v is string => typeof v === 'string' && options.includes(v);

/** The model part of the spec, as a writable record (each task's model spec is a flat object). */
const model = (spec: TrainJobSpec) => spec.model as unknown as Record<string, unknown>;

const COMMON: Setting[] = [
  { name: 'epochs', expects: 'a whole number from 1 to 1000', kind: 'int', valid: (v) => isInt(v, 1, 1000), apply: (s, v) => void (s.epochs = v as number) },
  { name: 'batchSize', expects: 'a whole number from 1 to 4096', kind: 'int', valid: (v) => isInt(v, 1, 4096), apply: (s, v) => void (s.batchSize = v as number) },
  { name: 'learningRate', expects: 'a number in (0, 10]', kind: 'number', valid: (v) => isNumber(v, 0, 10, true), apply: (s, v) => void (s.learningRate = v as number) },
  { name: 'optimizer', expects: '"adam" or "sgd"', kind: 'choice', valid: (v) => oneOf(v, ['adam', 'sgd']), apply: (s, v) => void (s.optimizer = v as 'adam' | 'sgd') },
  { name: 'seed', expects: 'an integer', kind: 'int', valid: (v) => isInt(v, -(2 ** 31), 2 ** 31 - 1), apply: (s, v) => void (s.seed = v as number) },
  {
    name: 'patience',
    expects: 'a whole number of epochs (0 turns early stopping off)',
    kind: 'int',
    valid: (v) => isInt(v, 0, 1000),
    apply: (s, v) => {
      s.earlyStopping = v === 0 ? undefined : { monitor: `val_${TASKS[s.task].primaryMetric}`, patience: v as number };
    },
  },
];

const FASTTEXT: Setting[] = [
  { name: 'dim', expects: 'a whole number from 2 to 512 (embedding width)', kind: 'int', valid: (v) => isInt(v, 2, 512), apply: (s, v) => void (model(s).dim = v) },
  { name: 'buckets', expects: 'a whole number from 64 to 2000000 (hash buckets)', kind: 'int', valid: (v) => isInt(v, 64, 2_000_000), apply: (s, v) => void (model(s).buckets = v) },
  { name: 'wordNgrams', expects: 'a whole number from 1 to 5', kind: 'int', valid: (v) => isInt(v, 1, 5), apply: (s, v) => void (model(s).wordNgrams = v) },
  {
    name: 'charNgrams',
    expects: '[min, max] with 1 ≤ min ≤ max ≤ 8, or [0, 0] for none',
    kind: 'choice',
    valid: (v) => Array.isArray(v) && v.length === 2 && isInt(v[0]!, 0, 8) && isInt(v[1]!, 0, 8) && (v[0] === 0 ? v[1] === 0 : v[0] <= v[1]),
    apply: (s, v) => void (model(s).charNgrams = [...(v as number[])]),
  },
];

// The text model itself — fastText, the lexicon-aware one or NB-SVM — and each one's own knobs. A trial keeps
// only the settings its architecture takes (`TEXT_SETTINGS`): a fastText trial drops `ngramDropout`,
// an NB-SVM trial drops `dim`.
const TEXT_ARCHITECTURES = ['fasttext', 'lexicon-fasttext', 'nbsvm'] as const;
const TEXT_MODEL: Setting[] = [
  {
    name: 'architecture',
    expects: '"fasttext", "lexicon-fasttext" or "nbsvm"',
    kind: 'choice',
    valid: (v) => oneOf(v, TEXT_ARCHITECTURES),
    apply: (s, v) => void (model(s).architecture = v),
  },
  {
    name: 'ngramDropout',
    expects: 'a number in [0, 0.95] (lexicon-fasttext only)',
    kind: 'number',
    valid: (v) => isNumber(v, 0, 0.95),
    apply: (s, v) => void (model(s).ngramDropout = v),
  },
  { name: 'beta', expects: 'a number in [0, 1] (nbsvm only)', kind: 'number', valid: (v) => isNumber(v, 0, 1), apply: (s, v) => void (model(s).beta = v) },
  { name: 'C', expects: 'a number in (0, 10000] (nbsvm only)', kind: 'number', valid: (v) => isNumber(v, 0, 10_000, true), apply: (s, v) => void (model(s).C = v) },
];

const FASTTEXT_KEYS = ['dim', 'buckets', 'wordNgrams', 'charNgrams'];
/** The model settings each text architecture takes (its `ModelSpec` member's keys). */
const TEXT_SETTINGS: Record<(typeof TEXT_ARCHITECTURES)[number], readonly string[]> = {
  fasttext: FASTTEXT_KEYS,
  'lexicon-fasttext': [...FASTTEXT_KEYS, 'ngramDropout'],
  nbsvm: ['buckets', 'wordNgrams', 'charNgrams', 'beta', 'C', 'alpha'],
};

/**
 * For a text model's own setting (`dim`, `beta`, …), the architectures that take it; undefined for any other
 * setting. A sweep whose trials never train one of them would drop the setting silently, so its definition is
 * refused instead.
 */
export function textArchitecturesTaking(setting: string): string[] | undefined {
  const takers = Object.entries(TEXT_SETTINGS).filter(([, keys]) => keys.includes(setting)).map(([architecture]) => architecture);
  return takers.length > 0 ? takers : undefined;
}

/**
 * The architecture a text trial trains when its sweep names none: the default for the task and the data's preset, unless the sweep varies
 * a setting only other architectures take — a `dim` sweep trains fastText, as it did before NB-SVM became the
 * default, rather than dropping `dim`.
 */
export function impliedArchitecture(task: TaskName, settings: string[], preset?: string): string {
  const base = defaultModelOf(task, preset).architecture;
  const takers = settings.map(textArchitecturesTaking).filter((t) => t !== undefined);
  if (takers.every((t) => t.includes(base))) return base;
  return Object.keys(TEXT_SETTINGS).find((architecture) => takers.every((t) => t.includes(architecture))) ?? base;
}

const VISION: Setting[] = [
  { name: 'backbone', expects: '"mobilenetv3-small" or "resnet18"', kind: 'choice', valid: (v) => oneOf(v, ['mobilenetv3-small', 'resnet18']), apply: (s, v) => void (model(s).backbone = v) },
  { name: 'inputSize', expects: 'a multiple of 32 from 32 to 512 (pixels)', kind: 'int', valid: (v) => isInt(v, 32, 512) && v % 32 === 0, apply: (s, v) => void (model(s).inputSize = v) },
  {
    name: 'projectionUnits',
    expects: 'a whole number from 0 to 4096 (0: no projection layer)',
    kind: 'int',
    valid: (v) => isInt(v, 0, 4096),
    apply: (s, v) => void (model(s).projection = v === 0 ? null : { units: v as number }),
  },
  { name: 'dropout', expects: 'a number in [0, 0.9]', kind: 'number', valid: (v) => isNumber(v, 0, 0.9), apply: (s, v) => void (model(s).dropout = v) },
  {
    name: 'init',
    expects: 'scratch, hub:<owner/name>, file:<name>.safetensors or version:<model>@<n> (first weights)',
    kind: 'choice',
    valid: (v) => typeof v === 'string' && isInit(v),
    apply: (s, v) => void (s.init = v as string),
  },
  fineTuneSetting('freezeEpochs', 'a whole number of epochs from 0 to 1000 (backbone frozen)', 'int', (v) => isInt(v, 0, 1000)),
  fineTuneSetting('backboneLrMultiplier', 'a number in (0, 10] (the backbone\'s learning rate once unfrozen)', 'number', (v) => isNumber(v, 0, 10, true)),
  fineTuneSetting('warmupEpochs', 'a whole number of epochs from 0 to 1000 (linear warm-up)', 'int', (v) => isInt(v, 0, 1000)),
  {
    name: 'augmentation',
    expects: '"none", "flip" or "default" (the task\'s policy)',
    kind: 'choice',
    valid: (v) => oneOf(v, ['none', 'flip', 'default']),
    apply: (s, v) => void (model(s).augmentation = v),
  },
  augmentSetting('cropScale', '[min, max] with 0 < min ≤ max ≤ 1 (random resized crop; [1, 1]: none)', 'choice', (v) =>
    Array.isArray(v) && v.length === 2 && isNumber(v[0]!, 0, 1, true) && isNumber(v[1]!, 0, 1) && (v[0] as number) <= (v[1] as number),
  ),
  augmentSetting('flip', 'true or false (mirror left–right)', 'choice', (v) => typeof v === 'boolean'),
  augmentSetting('rotateDegrees', 'a number of degrees in [0, 180]', 'number', (v) => isNumber(v, 0, 180)),
  augmentSetting('brightness', 'a number in [0, 0.99]', 'number', (v) => isNumber(v, 0, 0.99)),
  augmentSetting('contrast', 'a number in [0, 0.99]', 'number', (v) => isNumber(v, 0, 0.99)),
];

/**
 * One augmentation setting, swept by its own name: it changes that setting of the policy the trial would
 * otherwise train with (the task's default, or an `augmentation` parameter given before it).
 */
function augmentSetting(name: keyof AugmentationSettings, expects: string, kind: 'number' | 'choice', valid: (v: ParamValue) => boolean): Setting {
  return {
    name,
    expects,
    kind,
    valid,
    apply: (s, v) => {
      const current = augmentationSettings(resolveAugmentation(model(s).augmentation as Augmentation | undefined, TASKS[s.task].augmentation!));
      model(s).augmentation = { ...current, [name]: Array.isArray(v) ? [...v] : v };
    },
  };
}

/** A setting of the model's fine-tuning schedule (`fineTune`), swept by its own name. */
function fineTuneSetting(name: keyof FineTuneSchedule, expects: string, kind: 'int' | 'number', valid: (v: ParamValue) => boolean): Setting {
  return { name, expects, kind, valid, apply: (s, v) => void (model(s).fineTune = { ...(model(s).fineTune as FineTuneSchedule | undefined), [name]: v }) };
}

function isInit(value: string): boolean {
  try {
    parseInit(value);
    return true;
  } catch {
    return false;
  }
}

const COIN: Setting[] = [
  { name: 'mode', expects: '"dual" or "shared"', kind: 'choice', valid: (v) => oneOf(v, ['dual', 'shared']), apply: (s, v) => void (model(s).mode = v) },
  { name: 'loss', expects: '"huber" or "mse"', kind: 'choice', valid: (v) => oneOf(v, ['huber', 'mse']), apply: (s, v) => void (model(s).loss = v) },
  { name: 'huberDelta', expects: 'a number in (0, 10]', kind: 'number', valid: (v) => isNumber(v, 0, 10, true), apply: (s, v) => void (model(s).huberDelta = v) },
];

/** The model settings a sweep may vary, by the architecture a task's trials start from. */
const MODEL_SETTINGS: Partial<Record<ModelSpec['architecture'], Setting[]>> = {
  fasttext: [...FASTTEXT, ...TEXT_MODEL],
  'lexicon-fasttext': [...FASTTEXT, ...TEXT_MODEL],
  nbsvm: [...FASTTEXT, ...TEXT_MODEL],
  'coin-regressor': [...VISION, ...COIN],
  'damage-classifier': VISION,
};

/** Every setting a sweep may vary for a task, by name. */
export function settingsFor(task: TaskName): Map<string, Setting> {
  const list = [...COMMON, ...(MODEL_SETTINGS[TASKS[task].defaults.model.architecture] ?? [])];
  return new Map(list.map((s) => [s.name, s]));
}

/** The spec a trial starts from before its parameters apply: the Train page's defaults for the task and the data's preset. */
export function baseSpec(task: TaskName, datasetId: string, preset?: string): TrainJobSpec {
  const { defaults } = TASKS[task];
  return {
    task,
    datasetId,
    model: defaultModelOf(task, preset),
    epochs: defaults.epochs,
    batchSize: defaults.batchSize,
    optimizer: 'adam',
    learningRate: defaults.learningRate,
    seed: 42,
    readEvery: 5,
  };
}

/**
 * The training spec of one trial: the task's defaults with the trial's parameter values applied.
 * @example trialSpec('sentiment', 'ds1', { learningRate: 0.05, dim: 16 }, 'lr sweep · trial 3')
 */
export function trialSpec(task: TaskName, datasetId: string, values: Record<string, ParamValue>, name?: string, preset?: string): TrainJobSpec {
  const spec = baseSpec(task, datasetId, preset);
  spec.model = { ...spec.model };
  const settings = settingsFor(task);
  const implied = 'architecture' in values ? undefined : impliedArchitecture(task, Object.keys(values), preset);
  if (implied && implied !== spec.model.architecture) values = { architecture: implied, ...values };
  for (const [key, value] of Object.entries(values)) {
    const setting = settings.get(key);
    if (!setting) throw new Error(`parameters.${key}: not a setting of ${task}`);
    setting.apply(spec, value);
  }
  const keeps = (TEXT_SETTINGS as Partial<Record<string, readonly string[]>>)[spec.model.architecture];
  if (keeps) for (const key of Object.keys(spec.model)) if (key !== 'architecture' && !keeps.includes(key)) delete model(spec)[key];
  if (name) spec.name = name;
  return spec;
}

/** The metrics a run of the task records after each epoch, with whether greater is better. */
export function metricsFor(task: TaskName): Map<string, boolean> {
  const names = TASKS[task].kind === 'classification' ? ['accuracy', 'macroF1'] : ['mae', 'rmse', 'r2', 'medianAe'];
  const metrics = new Map<string, boolean>([['loss', false], ['val_loss', false]]);
  for (const name of names) metrics.set(`val_${name}`, name === 'accuracy' || name === 'macroF1' || name === 'r2');
  return metrics;
}
