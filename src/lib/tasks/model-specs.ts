import * as v from 'valibot';
import type { Augmentation, ModelSpec, TaskName } from '$lib/db/specs';
import { augmentationSettings, resolveAugmentation } from '$lib/images/augment';
import { BACKBONE_KINDS, COIN_LOSSES, COIN_MODES, PROJECTION_ACTIVATIONS } from '$models/index';
import { TASKS } from './registry';

/**
 * Valibot schemas of every model spec (`ModelSpec` in db/specs.ts), one per architecture: each setting
 * with its type, range and enumeration, unknown settings refused. They check a spec that arrives from
 * outside (a CLI `train.json`) before anything is built, naming the field (`model.augmentation`); the
 * model code checks again when it builds.
 */

type Architecture = ModelSpec['architecture'];
type SpecOf<A extends Architecture> = Extract<ModelSpec, { architecture: A }>;

const got = (issue: v.BaseIssue<unknown>) => `, got ${issue.received}`;
const oneOf = (values: readonly (string | number)[]) => (issue: v.BaseIssue<unknown>) => `must be one of ${values.join(', ')}${got(issue)}`;
const wholeNumber = (min: number) => v.pipe(v.number(`must be a whole number ≥ ${min}`), v.integer(`must be a whole number ≥ ${min}`), v.minValue(min, `must be ≥ ${min}`));
const positive = v.pipe(v.number('must be a number > 0'), v.gtValue(0, 'must be > 0'));
const rate = v.pipe(v.number('must be a rate in [0, 1)'), v.minValue(0, 'must be in [0, 1)'), v.ltValue(1, 'must be in [0, 1)'));
const picklist = <const T extends readonly string[]>(values: T) => v.picklist(values, oneOf(values));

/**
 * A strict object schema whose issues say what is wrong: an unknown setting (listing those it takes), a
 * missing one, or a value that is not an object.
 * @example settingsObject('projection', { units: v.number() }) // {"units": 8, "act": 1} → 'act: is not a setting of projection; it takes units'
 */
export function settingsObject<const E extends v.ObjectEntries>(what: string, entries: E) {
  const names = Object.keys(entries).join(', ');
  return v.strictObject(entries, (issue) => {
    if (issue.expected === 'never') return `is not a setting of ${what}; it takes ${names}`;
    if (issue.expected?.startsWith('"')) return `is required (${what} takes ${names})`;
    return `must be an object with ${names}${got(issue)}`;
  });
}

const charNgrams = v.pipe(
  v.tuple([wholeNumber(0), wholeNumber(0)], 'must be [min, max]'),
  v.check(([min, max]) => (min === 0 ? max === 0 : max >= min), 'must be [min, max] with 1 ≤ min ≤ max, or [0, 0]'),
);
const fastText = { dim: v.optional(wholeNumber(1)), buckets: v.optional(wholeNumber(1)), wordNgrams: v.optional(wholeNumber(1)), charNgrams: v.optional(charNgrams) };

const inputSize = v.pipe(
  v.number('must be a whole multiple of 32, ≥ 32'),
  v.integer('must be a whole multiple of 32, ≥ 32'),
  v.minValue(32, 'must be a whole multiple of 32, ≥ 32'),
  v.check((n) => n % 32 === 0, 'must be a whole multiple of 32, ≥ 32'),
);
const projection = v.nullable(settingsObject('projection', { units: wholeNumber(1), activation: v.optional(picklist(PROJECTION_ACTIVATIONS)) }));
const inputNames = v.array(v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be letters, digits and _, starting with a letter')), 'must be a list of input names');
/** The freeze-then-unfreeze schedule of a pretrained backbone (`FineTuneSchedule`). */
const fineTune = settingsObject('fineTune', {
  freezeEpochs: v.optional(wholeNumber(0)),
  backboneLrMultiplier: v.optional(v.pipe(v.number('must be a number in (0, 10]'), v.gtValue(0, 'must be > 0'), v.maxValue(10, 'must be ≤ 10'))),
  warmupEpochs: v.optional(wholeNumber(0)),
  cosine: v.optional(v.boolean('must be true or false')),
});
const SMALL_CNN_AUGMENTATIONS = ['none', 'flip', 'default'] as const;
const fraction = (what: string) => v.pipe(v.number(`must be ${what}`), v.minValue(0, `must be ${what}`), v.ltValue(1, `must be ${what}`));
const cropScale = v.pipe(
  v.tuple([v.number(), v.number()], 'must be [min, max] with 0 < min ≤ max ≤ 1'),
  v.check(([min, max]) => min > 0 && min <= max && max <= 1, 'must be [min, max] with 0 < min ≤ max ≤ 1'),
);
const augmentationObject = settingsObject('augmentation', {
  cropScale: v.optional(cropScale),
  flip: v.optional(v.boolean('must be true or false')),
  rotateDegrees: v.optional(v.pipe(v.number('must be a number of degrees in [0, 180]'), v.minValue(0, 'must be in [0, 180]'), v.maxValue(180, 'must be in [0, 180]'))),
  brightness: v.optional(fraction('a number in [0, 1)')),
  contrast: v.optional(fraction('a number in [0, 1)')),
});
/**
 * A named policy or explicit settings (`Augmentation`): chosen by the value's type rather than a union,
 * so an error names the setting (`model.augmentation.rotateDegrees: must be in [0, 180], got 270`).
 */
const augmentation = v.lazy((input) => (typeof input === 'object' && input !== null ? augmentationObject : picklist(SMALL_CNN_AUGMENTATIONS)));
const vision = {
  backbone: picklist(BACKBONE_KINDS),
  fineTune: v.optional(fineTune),
  augmentation: v.optional(augmentation),
  inputSize: v.optional(inputSize),
  projection: v.optional(projection),
  dropout: v.optional(rate),
  inputs: v.optional(inputNames),
};

const source = v.variant(
  'kind',
  [
    settingsObject('a hub source', { kind: v.literal('hub'), modelId: v.string() }),
    settingsObject('a host source', { kind: v.literal('host'), host: v.string(), modelId: v.string(), pathTemplate: v.optional(v.string()) }),
    settingsObject('a folder source', { kind: v.literal('folder'), name: v.string() }),
    settingsObject('a path source', { kind: v.literal('path'), path: v.string() }),
  ],
  oneOf(['hub', 'host', 'folder', 'path']),
);
const modelRef = { source, quantized: v.boolean('must be true or false') };

const POOLINGS = ['mean', 'cls'] as const;
const HEADS = ['linear', 'mlp'] as const;

/** The schema of each architecture's spec; the type checker holds each to its `ModelSpec` member. */
export const MODEL_SPEC_SCHEMAS: { [A in Architecture]: v.GenericSchema<unknown, SpecOf<A>> } = {
  fasttext: settingsObject('fasttext', { architecture: v.literal('fasttext'), ...fastText }),
  'lexicon-fasttext': settingsObject('lexicon-fasttext', { architecture: v.literal('lexicon-fasttext'), ...fastText, ngramDropout: v.optional(rate) }),
  nbsvm: settingsObject('nbsvm', {
    architecture: v.literal('nbsvm'),
    buckets: v.optional(wholeNumber(1)),
    wordNgrams: v.optional(wholeNumber(1)),
    charNgrams: v.optional(charNgrams),
    beta: v.optional(v.pipe(v.number('must be a number in [0, 1]'), v.minValue(0, 'must be in [0, 1]'), v.maxValue(1, 'must be in [0, 1]'))),
    C: v.optional(positive),
    alpha: v.optional(positive),
  }),
  'coin-regressor': settingsObject('coin-regressor', {
    architecture: v.literal('coin-regressor'),
    ...vision,
    mode: v.optional(picklist(COIN_MODES)),
    loss: v.optional(picklist(COIN_LOSSES)),
    huberDelta: v.optional(positive),
  }),
  'damage-classifier': settingsObject('damage-classifier', { architecture: v.literal('damage-classifier'), ...vision }),
  'small-cnn': v.pipe(
    settingsObject('small-cnn', {
      architecture: v.literal('small-cnn'),
      augmentation: v.optional(augmentation),
      inputSize: v.optional(wholeNumber(1)),
      channels: v.optional(v.picklist([1, 3], oneOf([1, 3]))),
      filters: v.optional(v.pipe(v.array(wholeNumber(1), 'must be a list of filter counts'), v.minLength(1, 'must name at least one block'))),
      dense: v.optional(wholeNumber(0)),
      dropout: v.optional(rate),
    }),
    // Each block halves the side; the last must keep a pixel.
    v.forward(
      v.partialCheck(
        [['inputSize'], ['filters']],
        ({ inputSize = 28, filters = [32, 64] }) => inputSize >= 2 ** filters.length,
        'must be at least 2^(number of filters) so every block keeps a pixel',
      ),
      ['inputSize'],
    ),
  ),
  transformer: settingsObject('transformer', { architecture: v.literal('transformer'), model: settingsObject('model', modelRef) }),
  'encoder-head': settingsObject('encoder-head', {
    architecture: v.literal('encoder-head'),
    encoder: settingsObject('encoder', { ...modelRef, pooling: picklist(POOLINGS) }),
    dim: wholeNumber(1),
    head: picklist(HEADS),
    hidden: v.optional(wholeNumber(1)),
    dropout: v.optional(rate),
  }),
};

/**
 * The schema of the model specs a task trains: the schema of the spec's `architecture`, which must be
 * one of the task's.
 * @example v.parse(modelSpecSchema('sentiment'), { architecture: 'fasttext', dim: 16 })
 */
export function modelSpecSchema(task: TaskName): v.GenericSchema<unknown, ModelSpec> {
  const architectures = TASKS[task].architectures;
  const unknown = settingsObject(`a ${task} model`, { architecture: picklist(architectures) }) as unknown as v.GenericSchema<unknown, ModelSpec>;
  return v.lazy((input) => {
    const architecture = (input as { architecture?: unknown } | null)?.architecture;
    return architectures.includes(architecture as Architecture) ? MODEL_SPEC_SCHEMAS[architecture as Architecture] : unknown;
  });
}

/**
 * Checks an image model's `augmentation` (the Train page and sweeps build specs without the full schema);
 * the message names the setting: `model.augmentation.brightness: must be a number in [0, 1), got 2`.
 */
export function augmentationProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const parsed = v.safeParse(augmentation, value);
  if (parsed.success) return undefined;
  const issue = parsed.issues[0];
  const path = (issue.path ?? []).map((p) => String(p.key)).join('.');
  return `model.augmentation${path ? `.${path}` : ''}: ${issue.message}`;
}

/**
 * The model spec a run records: an image model's augmentation written out as the settings it trains
 * with (the task's default when none or `default` is given), so the run says what it did even after a
 * default changes. Other models are returned as they are.
 */
export function withAugmentationRecorded(task: TaskName, spec: ModelSpec): ModelSpec {
  const taskDefault = TASKS[task].augmentation;
  if (!taskDefault) return spec;
  switch (spec.architecture) {
    case 'coin-regressor':
    case 'damage-classifier':
    case 'small-cnn':
      return { ...spec, augmentation: augmentationSettings(resolveAugmentation(spec.augmentation as Augmentation | undefined, taskDefault)) };
    default:
      return spec;
  }
}
