import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, ModelConfigError, type VisionModelSpec } from '../../../models/index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const coin = { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', inputSize: 32 } as const;
const damage = { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32 } as const;

/** Each bad config, the field its error must name, and a fragment of what it expected. */
const BAD: [string, unknown, string, RegExp][] = [
  ['unknown backbone', { ...coin, backbone: 'vgg16' }, 'backbone', /one of resnet18, mobilenetv3-small, got "vgg16"/],
  ['projection units 0', { ...coin, projection: { units: 0 } }, 'projection.units', /a positive integer, got 0/],
  ['projection units negative', { ...damage, projection: { units: -8 } }, 'projection.units', /a positive integer, got -8/],
  ['projection units non-integer', { ...coin, projection: { units: 12.5 } }, 'projection.units', /a positive integer, got 12.5/],
  ['projection activation unknown', { ...coin, projection: { units: 8, activation: 'softmax' } }, 'projection.activation', /one of relu, gelu/],
  ['input size not divisible by 32', { ...coin, inputSize: 100 }, 'inputSize', /multiple of 32 and ≥ 32, got 100/],
  ['input size below 32', { ...damage, inputSize: 0 }, 'inputSize', /got 0/],
  ['input size not an integer', { ...damage, inputSize: 64.5 }, 'inputSize', /got 64.5/],
  ['coin with one input', { ...coin, inputs: ['front'] }, 'inputs', /exactly 2 input names, got \["front"\]/],
  ['coin with three inputs', { ...coin, inputs: ['a', 'b', 'c'] }, 'inputs', /exactly 2 input names/],
  ['damage with two inputs', { ...damage, inputs: ['front', 'back'] }, 'inputs', /exactly 1 input name, got/],
  ['duplicate input names', { ...coin, inputs: ['side', 'side'] }, 'inputs', /distinct names/],
  ['input name with a slash', { ...coin, inputs: ['front/x', 'back'] }, 'inputs', /letters, digits and _/],
  ['dropout 1', { ...coin, dropout: 1 }, 'dropout', /in \[0, 1\), got 1/],
  ['dropout negative', { ...damage, dropout: -0.1 }, 'dropout', /got -0.1/],
  ['dropout NaN', { ...damage, dropout: NaN }, 'dropout', /got NaN/],
  ['unknown mode', { ...coin, mode: 'triple' }, 'mode', /one of dual, shared, got "triple"/],
  ['unknown loss', { ...coin, loss: 'l1' }, 'loss', /one of mse, huber/],
  ['year std 0', { ...coin, yearScale: { mean: 1900, std: 0 } }, 'yearScale.std', /a positive number, got 0/],
  ['one label', { ...damage, labels: ['damaged'] }, 'labels', /at least 2 labels/],
  ['duplicate labels', { ...damage, labels: ['minor', 'minor'] }, 'labels', /distinct labels/],
  ['unknown architecture', { ...coin, architecture: 'fasttext' }, 'architecture', /one of coin-regressor, damage-classifier, got "fasttext"/],
];

describe('createModel', () => {
  it.each(BAD)('rejects %s, naming the field', (_case, config, field, expected) => {
    let error: unknown;
    try {
      createModel(config as VisionModelSpec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelConfigError);
    expect((error as ModelConfigError).field).toBe(field);
    expect((error as Error).message).toMatch(new RegExp(`^${field.replace('.', '\\.')} must be `));
    expect((error as Error).message).toMatch(expected);
  });

  it('rejects a config that is not an object', () => {
    expect(() => createModel(null as unknown as VisionModelSpec)).toThrow(ModelConfigError);
  });

  it('builds each architecture from a valid config, discriminated on architecture', () => {
    const built = [createModel({ ...coin, mode: 'shared', projection: { units: 8 } }), createModel({ ...damage, labels: ['a', 'b'] })];
    try {
      expect(built.map((b) => b.architecture)).toEqual(['coin-regressor', 'damage-classifier']);
      expect(built[0]!.model.inputNames).toEqual(['front', 'back']);
      expect(built[1]!.model.outputs[0]!.shape).toEqual([null, 2]);
    } finally {
      built.forEach((b) => b.model.dispose());
    }
  });
});
