import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { augmentRgb, NO_AUGMENTATION, resolveAugmentation } from '../../../src/lib/images/augment';
import { mulberry32 } from '../../../src/lib/random';
import { createTrainable, TASKS } from '../../../src/lib/tasks/registry';
import { augmentationPreview } from '../../../src/lib/training/augment-preview';
import { augmentRandom, epochOrder, runTrainJob, splitIds, type TrainJobSpec } from '../../../src/lib/training/job';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../../models/index';
import { makeDb } from '../factories';
import { seedTinyCoins } from '../tiny-images';

const backend = { backend: 'cpu' as const, adapter: 'cpu' };

/** A 16×16 image whose red channel rises left to right (0…240), green top to bottom. */
function gradient(size = 16): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) pixels.set([x * 16, y * 16, 100], (y * size + x) * 3);
  return pixels;
}

describe('augmentation settings', () => {
  it('crops at random: a quarter-area crop zooms in (a narrower span of the gradient), reproducibly by seed', () => {
    const pixels = gradient();
    const crop = { ...NO_AUGMENTATION, cropScale: [0.25, 0.25] as const };
    const a = augmentRgb(pixels, 16, mulberry32(1), crop);
    expect(a).toEqual(augmentRgb(pixels, 16, mulberry32(1), crop));
    expect(a).not.toEqual(augmentRgb(pixels, 16, mulberry32(2), crop));
    const reds = Array.from({ length: 16 }, (_, x) => a[x * 3]!);
    // The crop's side is about half the image's (3/4–4/3 aspect), so the row spans about half the reds.
    expect(Math.max(...reds) - Math.min(...reds)).toBeGreaterThan(60);
    expect(Math.max(...reds) - Math.min(...reds)).toBeLessThan(180);
    // [1, 1] is no crop: the same draws and pixels as a policy without one.
    const rotate = { ...NO_AUGMENTATION, rotateDegrees: 20, brightness: 0.3 };
    expect(augmentRgb(pixels, 16, mulberry32(5), { ...rotate, cropScale: [1, 1] })).toEqual(augmentRgb(pixels, 16, mulberry32(5), rotate));
  });

  it("resolves per task: coins never mirror by default, photos do; 'none' changes nothing", () => {
    expect(resolveAugmentation(undefined, TASKS['coin-year'].augmentation!).flip).toBe(false);
    expect(resolveAugmentation('default', TASKS['image-classification'].augmentation!).flip).toBe(true);
    expect(resolveAugmentation({ rotateDegrees: 5 }, TASKS['coin-year'].augmentation!)).toEqual({ flip: false, rotateDegrees: 5, brightness: 0, contrast: 0 });
    expect(Array.from(augmentRgb(gradient(), 16, mulberry32(3), resolveAugmentation('none', TASKS['coin-year'].augmentation!)))).toEqual(Array.from(gradient()));
  });

  it('records the policy a run trained with (the task default written out) and refuses a bad value naming the field', async () => {
    const db = makeDb();
    const datasetId = await seedTinyCoins(db, 8);
    const spec: TrainJobSpec = {
      task: 'coin-year',
      datasetId,
      model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, projection: null, dropout: 0 },
      epochs: 1,
      batchSize: 6,
      optimizer: 'adam',
      learningRate: 0.001,
      seed: 3,
    };
    const { runId, trainable } = await runTrainJob(db, spec, { backend });
    trainable.dispose();
    expect((await db.runs.get(runId))?.params.model).toMatchObject({ augmentation: { flip: false, rotateDegrees: 10, brightness: 0.2, contrast: 0.2 } });
    const bad = { ...spec, model: { ...spec.model, augmentation: { brightness: 2 } } } as TrainJobSpec;
    await expect(runTrainJob(db, bad, { backend })).rejects.toThrow('model.augmentation.brightness: must be a number in [0, 1)');
    db.close();
  }, 60_000);

  it('previews exactly the images the first training batch feeds the model, both sides of a coin', async () => {
    const db = makeDb();
    const datasetId = await seedTinyCoins(db, 12);
    const run = { task: 'coin-year' as const, datasetId, seed: 9, batchSize: 4, inputSize: 32, augmentation: { cropScale: [0.3, 0.8] as [number, number], rotateDegrees: 15, brightness: 0.2 } };
    const preview = await augmentationPreview(db, run, 3);
    expect(preview.map((p) => p.images.length)).toEqual([2, 2, 2]);
    const trainable = createTrainable('coin-year', { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, augmentation: run.augmentation }, { seed: 1, trainingTargets: [1900, 1950] });
    const rows = (await db.samples.bulkGet(epochOrder(await splitIds(db, datasetId, 'train'), run.seed, 1).slice(0, run.batchSize))) as import('../../../src/lib/db/types').SampleRow[];
    expect(preview.map((p) => p.path)).toEqual(rows.slice(0, 3).map((r) => r.path));
    const before = tf.memory().numTensors;
    const inputs = (await trainable.toInputs(rows, { training: true, random: augmentRandom(run.seed, 1, 0) })) as tf.Tensor[];
    for (const [side, input] of inputs.entries()) {
      // Back from ImageNet normalisation to [0, 255].
      const restored = tf.tidy(() => input.mul(tf.tensor1d([...IMAGENET_STD])).add(tf.tensor1d([...IMAGENET_MEAN])).mul(255));
      const pixels = restored.dataSync();
      restored.dispose();
      for (let i = 0; i < 3; i++) {
        const shown = preview[i]!.images[side]!;
        const fed = pixels.subarray(i * shown.length, (i + 1) * shown.length);
        expect(Math.max(...shown.map((v, j) => Math.abs(v - fed[j]!)))).toBeLessThan(1e-3);
      }
    }
    // Another seed shows other images.
    expect((await augmentationPreview(db, { ...run, seed: 10 }, 1))[0]!.images[0]).not.toEqual(preview[0]!.images[0]);
    tf.dispose(inputs);
    expect(tf.memory().numTensors).toBe(before);
    trainable.dispose();
    db.close();
  }, 60_000);
});
