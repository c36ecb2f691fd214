import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { describeIssue } from '../../../src/lib/registry/gate';
import { MODEL_SPEC_SCHEMAS, modelSpecSchema } from '../../../src/lib/tasks/model-specs';
import { defaultModelOf, TASKS } from '../../../src/lib/tasks/registry';
import type { TaskName } from '../../../src/lib/db/specs';

/** The first issue of parsing `spec` for `task`, as `field: message`, or 'ok'. */
function check(task: TaskName, spec: unknown): string {
  const parsed = v.safeParse(modelSpecSchema(task), spec);
  return parsed.success ? 'ok' : describeIssue(parsed.issues[0]);
}

describe('model spec schemas', () => {
  it('have one schema per architecture and accept every default and pipeline model of every task', () => {
    expect(Object.keys(MODEL_SPEC_SCHEMAS).sort()).toEqual([...new Set(Object.values(TASKS).flatMap((t) => t.architectures))].sort());
    for (const task of Object.values(TASKS)) {
      expect(check(task.name, task.defaults.model)).toBe('ok');
      expect(check(task.name, task.defaults.pipeline.model)).toBe('ok');
      for (const preset of task.presets) expect(check(task.name, defaultModelOf(task.name, preset.id))).toBe('ok');
    }
    // Sentiment data starts from the lexicon-aware model; any other label set (no preset) from the task's NB-SVM.
    expect(defaultModelOf('text-classification', 'sentiment')).toEqual({ architecture: 'lexicon-fasttext', dim: 32, ngramDropout: 0.8 });
    expect(defaultModelOf('text-classification', undefined)).toEqual({ architecture: 'nbsvm', C: 10, beta: 1, charNgrams: [3, 5] });
    expect(defaultModelOf('image-classification', 'car-damage')).toEqual(TASKS['image-classification'].defaults.model);
    expect(check('image-classification', { architecture: 'small-cnn', inputSize: 8, channels: 1, filters: [4], dense: 8, dropout: 0, augmentation: 'none' })).toBe('ok');
    expect(check('text-classification', { architecture: 'encoder-head', encoder: { source: { kind: 'hub', modelId: 'Xenova/all-MiniLM-L6-v2' }, quantized: true, pooling: 'mean' }, dim: 384, head: 'linear' })).toBe('ok');
  });

  it('name the field and what it takes: enumerations, ranges, unknown and missing settings', () => {
    expect(check('image-classification', { architecture: 'small-cnn', augmentation: 'nope' })).toBe('augmentation: must be one of none, flip, default, got "nope"');
    expect(check('coin-year', { architecture: 'coin-regressor', backbone: 'resnet18', augmentation: { cropScale: [0.3, 1], flip: false, rotateDegrees: 10 } })).toBe('ok');
    expect(check('coin-year', { architecture: 'coin-regressor', backbone: 'resnet18', augmentation: { rotateDegrees: 270 } })).toBe('augmentation.rotateDegrees: must be in [0, 180]');
    expect(check('image-classification', { architecture: 'damage-classifier', backbone: 'resnet18', augmentation: { contrast: -1 } })).toBe('augmentation.contrast: must be a number in [0, 1)');
    expect(check('image-classification', { architecture: 'small-cnn', augmentaton: 'flip' })).toMatch(/^augmentaton: is not a setting of small-cnn; it takes architecture, augmentation, inputSize/);
    expect(check('image-classification', { architecture: 'small-cnn', inputSize: 2, filters: [4, 4] })).toBe('inputSize: must be at least 2^(number of filters) so every block keeps a pixel');
    expect(check('image-classification', { architecture: 'small-cnn', channels: 2 })).toBe('channels: must be one of 1, 3, got 2');
    expect(check('image-classification', { architecture: 'damage-classifier' })).toMatch(/^backbone: is required/);
    expect(check('image-classification', { architecture: 'damage-classifier', backbone: 'vgg' })).toBe('backbone: must be one of resnet18, mobilenetv3-small, got "vgg"');
    expect(check('image-classification', { architecture: 'damage-classifier', backbone: 'resnet18', inputSize: 100 })).toBe('inputSize: must be a whole multiple of 32, ≥ 32');
    expect(check('image-classification', { architecture: 'damage-classifier', backbone: 'resnet18', projection: { units: 8, activation: 'foo' } })).toMatch(
      /^projection\.activation: must be one of relu, .*, got "foo"$/,
    );
    expect(check('coin-year', { architecture: 'coin-regressor', backbone: 'resnet18', mode: 'triple' })).toBe('mode: must be one of dual, shared, got "triple"');
    expect(check('coin-year', { architecture: 'coin-regressor', backbone: 'resnet18', dropout: 1 })).toBe('dropout: must be in [0, 1)');
    expect(check('text-classification', { architecture: 'fasttext', charNgrams: [5, 3] })).toBe('charNgrams: must be [min, max] with 1 ≤ min ≤ max, or [0, 0]');
    expect(check('text-classification', { architecture: 'fasttext', dim: 1.5 })).toBe('dim: must be a whole number ≥ 1');
    expect(check('text-classification', { architecture: 'encoder-head', encoder: { source: { kind: 'web' }, quantized: true, pooling: 'mean' }, dim: 3, head: 'mlp' })).toBe(
      'encoder.source.kind: must be one of hub, host, folder, path, got "web"',
    );
  });

  it('take only the architectures of the task', () => {
    expect(check('text-classification', { architecture: 'small-cnn' })).toBe('architecture: must be one of nbsvm, fasttext, lexicon-fasttext, transformer, encoder-head, got "small-cnn"');
    expect(check('coin-year', 'fasttext')).toBe('must be an object with architecture, got "fasttext"');
  });
});
