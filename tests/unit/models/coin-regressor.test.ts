import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters } from '../../../models/backbones/params';
import {
  coinRegressorMetadata,
  coinYearLoss,
  createCoinRegressor,
  denormalizeYears,
  fitYearScale,
  normalizeYears,
  predictYears,
  setYearScale,
} from '../../../models/coin-regressor';
import { registerFastCpuKernels } from '../../../src/lib/backends/kernels/register';

const images = (batch: number, seed: number) => tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFastCpuKernels(); // as the trainer worker gets it on cpu
});

describe('createCoinRegressor', () => {
  it.each(['mobilenetv3-small', 'resnet18'] as const)('%s: dual has twice the backbone parameters of shared, and the same head', (backbone) => {
    const projection = { units: 16 };
    const shared = createCoinRegressor({ backbone, mode: 'shared', inputSize: 32, projection });
    const dual = createCoinRegressor({ backbone, mode: 'dual', inputSize: 32, projection });
    try {
      expect(shared.backbones).toHaveLength(1);
      expect(dual.backbones).toHaveLength(2);
      const backboneParams = countParameters(shared.backbones[0]!.model);
      const features = shared.backbones[0]!.featureDim;
      const head = 2 * features * 16 + 16 + 16 + 1; // projection on the concatenation, then one unit
      expect(countParameters(shared.model)).toEqual({ trainable: backboneParams.trainable + head, nonTrainable: backboneParams.nonTrainable });
      expect(countParameters(dual.model)).toEqual({ trainable: 2 * backboneParams.trainable + head, nonTrainable: 2 * backboneParams.nonTrainable });
    } finally {
      shared.model.dispose();
      dual.model.dispose();
    }
  });

  it('puts the head straight on the concatenation without a projection', () => {
    const { model, backbones } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, projection: null });
    try {
      expect(countParameters(model).trainable - countParameters(backbones[0]!.model).trainable).toBe(2 * 576 + 1);
      expect(model.layers.map((l) => l.name)).not.toContain('projection');
    } finally {
      model.dispose();
    }
  });

  it('takes front and back images and predicts one normalized year per pair', () => {
    const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 32, dropout: 0.3 });
    const front = images(2, 1);
    const back = images(2, 2);
    try {
      expect(model.inputNames).toEqual(['front', 'back']);
      const start = tf.memory().numTensors;
      const out = model.predict([front, back]) as tf.Tensor;
      expect(out.shape).toEqual([2, 1]);
      out.dispose();
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      model.dispose();
      tf.dispose([front, back]);
    }
  });

  it('uses each side: swapping front and back changes the dual prediction', () => {
    const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 32, dropout: 0 });
    const a = images(1, 3);
    const b = images(1, 4);
    try {
      const [ab, ba] = tf.tidy(() => [(model.predict([a, b]) as tf.Tensor).dataSync()[0]!, (model.predict([b, a]) as tf.Tensor).dataSync()[0]!]);
      expect(ab).not.toBeCloseTo(ba!, 6);
    } finally {
      model.dispose();
      tf.dispose([a, b]);
    }
  });
});

describe('year scale', () => {
  it('fits mean and std on training years and round-trips through the model output', () => {
    const scale = fitYearScale([1850, 1900, 1950]);
    expect(scale.mean).toBe(1900);
    expect(scale.std).toBeCloseTo(Math.sqrt(5000 / 3), 10);
    expect(fitYearScale([1900, 1900])).toEqual({ mean: 1900, std: 1 });
    expect(() => fitYearScale([])).toThrow(/at least one year/);
    const years = tf.tidy(() => Array.from(denormalizeYears(normalizeYears([1850, 2001.5], scale), scale).dataSync()));
    expect(years[0]).toBeCloseTo(1850, 3);
    expect(years[1]).toBeCloseTo(2001.5, 3);
  });

  it('predictYears denormalizes with the scale stored in the model, and frees every tensor', async () => {
    const yearScale = { mean: 1900, std: 50 };
    const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, yearScale });
    const front = images(3, 5);
    const back = images(3, 6);
    try {
      expect(coinRegressorMetadata(model).yearScale).toEqual(yearScale);
      const normalized = tf.tidy(() => Array.from((model.predict([front, back]) as tf.Tensor).dataSync()));
      const start = tf.memory().numTensors;
      const years = await predictYears(model, front, back);
      expect(tf.memory().numTensors).toBe(start);
      years.forEach((year, i) => expect(year).toBeCloseTo(normalized[i]! * 50 + 1900, 3));

      setYearScale(model, { mean: 1800, std: 10 });
      const rescaled = await predictYears(model, front, back);
      rescaled.forEach((year, i) => expect(year).toBeCloseTo(normalized[i]! * 10 + 1800, 3));
      expect(tf.memory().numTensors).toBe(start);
      const small = tf.zeros([3, 16, 16, 3]) as tf.Tensor4D;
      await expect(predictYears(model, front, small)).rejects.toThrow(/back images must be \[batch, 32, 32, 3\], got \[3, 16, 16, 3\]/);
      small.dispose();
    } finally {
      model.dispose();
      tf.dispose([front, back]);
    }
  });
});

describe('coinYearLoss', () => {
  it('is MSE or Huber on normalized years', () => {
    const yTrue = tf.tensor2d([[0], [0]]);
    const yPred = tf.tensor2d([[0.5], [3]]);
    const mse = coinYearLoss('mse')(yTrue, yPred);
    const huber = coinYearLoss('huber', 1)(yTrue, yPred);
    expect(mse.dataSync()[0]).toBeCloseTo((0.25 + 9) / 2, 6);
    expect(huber.dataSync()[0]).toBeCloseTo((0.5 * 0.25 + (3 - 0.5)) / 2, 6);
    tf.dispose([yTrue, yPred, mse, huber]);
    expect(() => coinYearLoss('l1' as 'mse')).toThrow(/loss must be one of mse, huber/);
    expect(() => coinYearLoss('huber', 0)).toThrow(/huberDelta must be a positive number/);
  });
});

describe('training', () => {
  it('sends a finite, non-zero gradient to every trainable weight of the shared backbone', () => {
    const { model } = createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, dropout: 0 });
    const front = images(2, 8);
    const back = images(2, 9);
    const target = normalizeYears([1850, 1950], { mean: 1900, std: 50 });
    try {
      const loss = coinYearLoss('mse');
      const { value, grads } = tf.variableGrads(() => loss(target, model.apply([front, back], { training: true }) as tf.Tensor));
      const variables = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
      expect(Object.keys(grads).sort()).toEqual(variables.sort());
      for (const [name, grad] of Object.entries(grads)) {
        const values = grad.dataSync();
        expect(values.every(Number.isFinite), name).toBe(true);
        expect(values.some((v) => v !== 0), name).toBe(true);
      }
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      model.dispose();
      tf.dispose([front, back, target]);
    }
  });
});
