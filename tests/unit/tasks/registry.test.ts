import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveToBlobs, type SavedModelBlobs } from '../../../models/io';
import { encodePng } from '../../../src/lib/datasets/png';
import { COIN_YEAR } from '../../../src/lib/tasks/coin-year';
import { CAR_DAMAGE_PRESET, IMAGE_CLASSIFICATION } from '../../../src/lib/tasks/image-classification';
import { predictInputs } from '../../../src/lib/tasks/loaded';
import {
  builtinModelTask,
  createTrainable,
  hasBatchNorm,
  loadTrainable,
  presetOf,
  taskChoice,
  taskChoices,
  type ModelSpec,
  TASK_NAMES,
  taskDefinition,
  taskOfArchitecture,
  TASKS,
  UnknownModelError,
  UnsupportedModelError,
} from '../../../src/lib/tasks/registry';
import { TEXT_CLASSIFICATION, SENTIMENT_PRESET } from '../../../src/lib/tasks/text-classification';
import { batchNormLayers } from '../../../src/lib/training/batch-norm-stats';
import type { TaskName } from '../../../src/lib/db/types';
import type { ServingInput, TrainableModel } from '../../../src/lib/tasks/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A saved model whose `userDefinedMetadata.loupe` is rewritten, as an earlier version of Loupe wrote it. */
function withMetadata(saved: SavedModelBlobs, edit: (loupe: Record<string, unknown>) => Record<string, unknown>): SavedModelBlobs {
  const json = JSON.parse(saved.modelJson) as { userDefinedMetadata: { loupe: Record<string, unknown> } };
  json.userDefinedMetadata.loupe = edit(json.userDefinedMetadata.loupe);
  return { ...saved, modelJson: JSON.stringify(json) };
}

async function saved(trainable: TrainableModel): Promise<SavedModelBlobs> {
  try {
    return await saveToBlobs(trainable.model);
  } finally {
    trainable.dispose();
  }
}

const grey = (level: number) => ({ bytes: encodePng({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(level) }, 1), type: 'image/png' as const });

describe('the task table', () => {
  it('has one definition per task name, each under its own name', () => {
    expect(Object.keys(TASKS)).toEqual([...TASK_NAMES]);
    for (const name of TASK_NAMES) expect(TASKS[name].name).toBe(name);
    expect([TASKS['coin-year'], TASKS['image-classification'], TASKS['text-classification']]).toEqual([COIN_YEAR, IMAGE_CLASSIFICATION, TEXT_CLASSIFICATION]);
  });

  it('keeps each definition consistent: default and pipeline models it can build, fields of its input kind, metrics of its kind', () => {
    const fieldKeys = { image: ['image'], 'image-pair': ['front', 'back'], text: ['text'] };
    for (const task of Object.values(TASKS)) {
      expect(task.architectures).toContain(task.defaults.model.architecture);
      expect(task.architectures).toContain(task.defaults.pipeline.model.architecture);
      expect(task.serving.fields.map((f) => f.key)).toEqual(fieldKeys[task.input]);
      expect(Object.keys(task.serving.example)).toEqual(task.serving.fields.map((f) => f.name));
      expect(task.guardMetrics).not.toContain(task.primaryMetric);
      expect(task.metricNames[0]).toBe(task.primaryMetric);
      for (const guard of task.guardMetrics) expect(task.metricNames).toContain(guard);
      expect(task.greaterIsBetter).toBe(task.kind === 'classification');
      expect(task.presets.length > 0).toBe(task.kind === 'classification');
      for (const architecture of task.architectures) expect(taskOfArchitecture(architecture)).toBe(task);
    }
  });

  it('knows image classification by its earlier name car-damage, whose classes are now its preset', () => {
    expect(taskDefinition('car-damage')).toBe(IMAGE_CLASSIFICATION);
    expect(taskDefinition('image-classification')).toBe(IMAGE_CLASSIFICATION);
    expect(IMAGE_CLASSIFICATION.presets[0]).toEqual(CAR_DAMAGE_PRESET);
    expect(CAR_DAMAGE_PRESET).toMatchObject({ id: 'car-damage', labels: ['minor', 'moderate', 'major'] });
    expect(TEXT_CLASSIFICATION.presets[0]).toEqual(SENTIMENT_PRESET);
    expect(taskDefinition('sentiment')).toBe(TEXT_CLASSIFICATION);
    expect(SENTIMENT_PRESET).toMatchObject({ id: 'sentiment', labels: ['negative', 'neutral', 'positive'] });
    // Pickers and built-in model names offer each task and each preset; a preset names its task.
    expect(taskChoices().map((c) => c.id)).toEqual(['coin-year', 'image-classification', 'car-damage', 'text-classification', 'sentiment']);
    expect(taskChoice('sentiment')).toMatchObject({ task: 'text-classification', preset: 'sentiment' });
    expect(builtinModelTask('sentiment')).toBe('text-classification');
    expect(builtinModelTask('text-classification')).toBe('text-classification');
    expect(presetOf('text-classification', 'sentiment')).toBe(SENTIMENT_PRESET);
    expect(presetOf('text-classification', 'car-damage')).toBeUndefined();
    expect(() => taskDefinition('weather')).toThrow(UnsupportedModelError);
    expect(() => taskDefinition('weather')).toThrow('unknown task "weather"; valid: coin-year, image-classification, text-classification');
    expect(taskOfArchitecture('perceptron')).toBeUndefined();
  });
});

describe('createTrainable', () => {
  it('builds an image classifier over the dataset\'s classes, else the car-damage preset\'s', () => {
    const spec: ModelSpec = { architecture: 'small-cnn', inputSize: 8, channels: 1, filters: [4], dense: 4 };
    const own = createTrainable('image-classification', spec, { seed: 1, labels: ['bag', 'shoe'] });
    expect(own.task).toBe(IMAGE_CLASSIFICATION);
    expect(own.labels).toEqual(['bag', 'shoe']);
    expect(own.metadata).toMatchObject({ task: 'image-classification', architecture: 'small-cnn', labels: ['bag', 'shoe'] });
    own.dispose();
    const preset = createTrainable('image-classification', spec, { seed: 1 });
    expect(preset.labels).toEqual(['minor', 'moderate', 'major']);
    preset.dispose();
  });

  it('refuses an architecture of another task naming the task it is for, and an unknown one naming the valid ones', () => {
    expect(() => createTrainable('image-classification', { architecture: 'coin-regressor', backbone: 'mobilenetv3-small' }, { seed: 1 })).toThrow(
      'model.architecture "coin-regressor" is for coin-year, not image-classification',
    );
    expect(() => createTrainable('text-classification', { architecture: 'small-cnn' }, { seed: 1 })).toThrow('model.architecture "small-cnn" is for image-classification, not text-classification');
    expect(() => createTrainable('coin-year', { architecture: 'perceptron' } as never, { seed: 1 })).toThrow(
      'model.architecture "perceptron" is not supported; valid for coin-year: coin-regressor',
    );
  });

  it('needs the training years to build the coin-year regressor (its target scale is fitted on them)', () => {
    const spec = { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', inputSize: 32 } as const;
    expect(() => createTrainable('coin-year', spec, { seed: 1 })).toThrow(UnsupportedModelError);
    expect(() => createTrainable('coin-year', spec, { seed: 1, trainingTargets: [] })).toThrow('the coin-year model needs the training years');
  });
});

describe('hasBatchNorm: whether recomputing BatchNorm statistics means anything for a model', () => {
  it.each<[string, TaskName, ModelSpec]>([
    ['the coin regressor (dual MobileNetV3-Small)', 'coin-year', { ...TASKS['coin-year'].defaults.model, inputSize: 32 } as ModelSpec],
    ['the image classifier on ResNet18', 'image-classification', { architecture: 'damage-classifier', backbone: 'resnet18', inputSize: 32, projection: null, dropout: 0 }],
    ['the small CNN', 'image-classification', { architecture: 'small-cnn', inputSize: 8, channels: 1, filters: [4], dense: 4 }],
  ])('says what the built network has: %s', (_, task, spec) => {
    const trainable = createTrainable(task, spec, { seed: 1, labels: ['a', 'b'], trainingTargets: [1900, 1950] });
    try {
      expect(hasBatchNorm(spec)).toBe(batchNormLayers(trainable.model).length > 0);
    } finally {
      trainable.dispose();
    }
    expect(hasBatchNorm(spec)).toBe(spec.architecture !== 'small-cnn');
  });

  it('is false for every text model', () => {
    for (const architecture of ['fasttext', 'lexicon-fasttext', 'nbsvm'] as const) expect(hasBatchNorm({ architecture } as ModelSpec)).toBe(false);
    expect(hasBatchNorm(TASKS['text-classification'].defaults.model)).toBe(false);
  });
});

describe('loadTrainable: models saved by this and earlier versions', () => {
  const smallCnn: ModelSpec = { architecture: 'small-cnn', inputSize: 8, channels: 1, filters: [4], dense: 4, augmentation: 'none' };
  const inputs: ServingInput[] = [{ image: grey(10) }, { image: grey(240) }];

  it('loads an image classifier as image classification with its classes, predicting as before saving', async () => {
    const trainable = createTrainable('image-classification', smallCnn, { seed: 3, labels: ['coat', 'bag', 'sandal'] });
    const expected = await predictInputs(trainable, inputs);
    const loaded = await loadTrainable(await saved(trainable));
    expect(loaded.task).toBe(IMAGE_CLASSIFICATION);
    expect(loaded.labels).toEqual(['coat', 'bag', 'sandal']);
    expect(await predictInputs(loaded, inputs)).toEqual(expected);
    loaded.dispose();
  });

  it('loads a small CNN saved when the task was car-damage (loupe.task "car-damage")', async () => {
    const trainable = createTrainable('image-classification', smallCnn, { seed: 4, labels: ['minor', 'moderate', 'major'] });
    const expected = await predictInputs(trainable, inputs);
    const old = withMetadata(await saved(trainable), (loupe) => ({ ...loupe, task: 'car-damage' }));
    const loaded = await loadTrainable(old);
    expect(loaded.task.name).toBe('image-classification');
    expect(loaded.metadata).toMatchObject({ task: 'image-classification', architecture: 'small-cnn' });
    expect(loaded.labels).toEqual(['minor', 'moderate', 'major']);
    expect(await predictInputs(loaded, inputs)).toEqual(expected);
    loaded.dispose();
  });

  it('loads a backbone classifier whose metadata predates architectures (task "car-damage" only)', async () => {
    const trainable = createTrainable('image-classification', { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32 }, { seed: 5 });
    const old = withMetadata(await saved(trainable), ({ architecture: _, ...loupe }) => ({ ...loupe, task: 'car-damage' }));
    expect(JSON.parse(old.modelJson).userDefinedMetadata.loupe.architecture).toBeUndefined();
    const loaded = await loadTrainable(old);
    expect(loaded.task).toBe(IMAGE_CLASSIFICATION);
    expect(loaded.labels).toEqual(['minor', 'moderate', 'major']);
    expect(loaded.metadata).toMatchObject({ task: 'image-classification', architecture: 'damage-classifier', inputSize: 32 });
    loaded.dispose();
  });

  it('loads a fastText model saved when the task was sentiment (loupe.task "sentiment"), predicting as before', async () => {
    const trainable = createTrainable('text-classification', { architecture: 'fasttext', dim: 4, buckets: 64 }, { seed: 7 });
    const texts: ServingInput[] = [{ text: 'what a great day' }, { text: 'awful service' }];
    const expected = await predictInputs(trainable, texts);
    const old = withMetadata(await saved(trainable), (loupe) => ({ ...loupe, task: 'sentiment' }));
    const loaded = await loadTrainable(old);
    expect(loaded.task).toBe(TEXT_CLASSIFICATION);
    expect(loaded.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(await predictInputs(loaded, texts)).toEqual(expected);
    loaded.dispose();
  });

  it('builds a text classifier over any classes: a topic model answers with its topics', async () => {
    const trainable = createTrainable('text-classification', { architecture: 'fasttext', dim: 4, buckets: 64 }, { seed: 8, labels: ['sports', 'politics', 'tech'] });
    const [prediction] = await predictInputs(trainable, [{ text: 'the match went to extra time' }]);
    expect(prediction).toMatchObject({ kind: 'classification', label: expect.stringMatching(/^(sports|politics|tech)$/) });
    expect((prediction as { probabilities: number[] }).probabilities).toHaveLength(3);
    const reloaded = await loadTrainable(await saved(trainable));
    expect(reloaded.labels).toEqual(['sports', 'politics', 'tech']);
    reloaded.dispose();
  });

  it('loads a coin regressor whose metadata says only task "coin-year", keeping its year scale', async () => {
    const trainable = createTrainable('coin-year', { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32 }, { seed: 6, trainingTargets: [1850, 1900, 2000] });
    const { yearScale } = trainable.metadata as { yearScale: unknown };
    const old = withMetadata(await saved(trainable), ({ architecture: _, ...loupe }) => ({ ...loupe, task: 'coin-year' }));
    const loaded = await loadTrainable(old);
    expect(loaded.task).toBe(COIN_YEAR);
    expect(loaded.metadata).toMatchObject({ task: 'coin-year', architecture: 'coin-regressor', yearScale });
    loaded.dispose();
  });

  it('refuses a model without Loupe metadata, or of a task it does not know', async () => {
    const plain = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    const blobs = await saveToBlobs(plain);
    plain.dispose();
    await expect(loadTrainable(blobs)).rejects.toBeInstanceOf(UnknownModelError);
    const trainable = createTrainable('text-classification', { architecture: 'fasttext', dim: 4, buckets: 64 }, { seed: 1 });
    const weather = withMetadata(await saved(trainable), (loupe) => ({ ...loupe, task: 'weather' }));
    await expect(loadTrainable(weather)).rejects.toBeInstanceOf(UnknownModelError);
  });
});
