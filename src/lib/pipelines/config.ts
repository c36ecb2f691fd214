import type { PipelineRow, TaskName } from '$lib/db/types';
import { checkModelName } from '$lib/registry/registry';
import { TASKS } from '$lib/tasks/registry';
import { specBackbone } from '$lib/training/init';
import { ScheduleError, validateSchedule } from './schedule';
import type { PipelineConfig, PipelineState, TrainRecipe } from './types';

export class PipelineConfigError extends Error {
  override name = 'PipelineConfigError';
}

/** The default training recipe of a task: its pipeline defaults (smaller and quicker than the Train page's). */
export function defaultRecipe(task: TaskName): TrainRecipe {
  const { defaults, primaryMetric } = TASKS[task];
  return {
    model: structuredClone(defaults.pipeline.model),
    epochs: defaults.pipeline.epochs,
    batchSize: defaults.batchSize,
    optimizer: 'adam',
    learningRate: defaults.learningRate,
    seed: 42,
    earlyStopping: { monitor: `val_${primaryMetric}`, patience: defaults.pipeline.patience },
    readEvery: 5,
  };
}

/**
 * A new pipeline's config: every step on, retrain daily, after 50 new labelled samples, and when a
 * retrain alert fires; a trigger during a run queues one more run.
 */
export function defaultConfig(task: TaskName): PipelineConfig {
  return {
    steps: { data: true, evaluate: true, register: true, gate: true, deploy: true },
    train: { kind: 'train', recipe: defaultRecipe(task) },
    triggers: { schedule: { kind: 'interval', every: 1, unit: 'days' }, minNewSamples: 50, onAlert: true },
    overlap: 'queue',
  };
}

/** A new pipeline row for a model (not yet stored). */
export function newPipeline(model: string, task: TaskName, now = Date.now(), config = defaultConfig(task)): PipelineRow {
  return { id: `pl-${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`, model, task, name: `Retrain ${model}`, config, paused: false, createdAt: now, updatedAt: now, state: { lastScheduledAt: now } };
}

/**
 * Checks a config before it is stored, naming the field and what is expected.
 * @throws PipelineConfigError
 */
export function validateConfig(config: PipelineConfig, task: TaskName): PipelineConfig {
  const fail = (field: string, expected: string, got: unknown) => {
    throw new PipelineConfigError(`${field} must be ${expected}, got ${JSON.stringify(got)}`);
  };
  const { recipe } = config.train;
  if (config.train.kind !== 'train') fail('train.kind', '"train"', config.train.kind);
  if (!Number.isInteger(recipe.epochs) || recipe.epochs < 1) fail('train.recipe.epochs', 'a whole number ≥ 1', recipe.epochs);
  if (!Number.isInteger(recipe.batchSize) || recipe.batchSize < 1) fail('train.recipe.batchSize', 'a whole number ≥ 1', recipe.batchSize);
  if (!(recipe.learningRate > 0 && Number.isFinite(recipe.learningRate))) fail('train.recipe.learningRate', 'a positive number', recipe.learningRate);
  if (!Number.isInteger(recipe.seed)) fail('train.recipe.seed', 'an integer', recipe.seed);
  if (recipe.optimizer !== 'adam' && recipe.optimizer !== 'sgd') fail('train.recipe.optimizer', 'adam or sgd', recipe.optimizer);
  const { architectures } = TASKS[task];
  if (!architectures.includes(recipe.model?.architecture)) {
    fail('train.recipe.model.architecture', `one of ${architectures.map((a) => `"${a}"`).join(', ')} for ${task}`, recipe.model?.architecture);
  }
  const from = config.train.from ?? 'recipe';
  if (from !== 'recipe' && from !== 'production') fail('train.from', '"recipe" or "production"', from);
  if (from === 'production' && !specBackbone(recipe.model)) {
    fail('train.from', `"recipe" for ${recipe.model.architecture} (continuing from production warm-starts an image model's backbone)`, from);
  }
  const inputSize = (recipe.model as { inputSize?: unknown }).inputSize;
  if (inputSize !== undefined && (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize < 32 || inputSize % 32 !== 0)) {
    fail('train.recipe.model.inputSize', 'a multiple of 32, at least 32', inputSize);
  }
  const { minNewSamples } = config.triggers;
  if (!Number.isInteger(minNewSamples) || minNewSamples < 0) fail('triggers.minNewSamples', 'a whole number ≥ 0 (0 turns the data trigger off)', minNewSamples);
  if (config.overlap !== 'queue' && config.overlap !== 'skip') fail('overlap', 'queue or skip', config.overlap);
  if (config.steps.deploy && !config.steps.gate) fail('steps.deploy', 'off when the gate is off (only the gate moves production)', true);
  if (config.steps.gate && !config.steps.register) fail('steps.gate', 'off when register is off (the gate judges a registered version)', true);
  try {
    validateSchedule(config.triggers.schedule);
  } catch (error) {
    if (error instanceof ScheduleError) throw new PipelineConfigError(`triggers.${error.message}`);
    throw error;
  }
  return config;
}

/** Checks a whole pipeline row (name, model) and its config. */
export function validatePipeline(row: PipelineRow): PipelineRow {
  if (!row.name.trim()) throw new PipelineConfigError('name must not be empty');
  try {
    checkModelName(row.model);
  } catch (error) {
    throw new PipelineConfigError(`model: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!(row.task in TASKS)) throw new PipelineConfigError(`task must be one of ${Object.keys(TASKS).join(', ')}, got ${JSON.stringify(row.task)}`);
  validateConfig(row.config, row.task);
  return row;
}

/** The scheduler's memory of a row, with defaults for rows stored before it existed. */
export function stateOf(row: PipelineRow): PipelineState {
  return row.state ?? { lastScheduledAt: row.createdAt };
}
