import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../src/lib/backends/tfjs';
import { encodePng } from '../../../src/lib/datasets/png';
import type { SampleRow } from '../../../src/lib/db/types';
import type { TrainJobSpec } from '../../../src/lib/db/specs';
import { mulberry32 } from '../../../src/lib/random';
import { ModelRegistry } from '../../../src/lib/registry/registry';
import { findRunModel } from '../../../src/lib/registry/evaluators';
import { createTrainable } from '../../../src/lib/tasks/registry';
import type { TrainableModel } from '../../../src/lib/tasks/types';
import { ConstantsAdam } from '../../../src/lib/training/adam';
import { epochRates, scheduleDriver } from '../../../src/lib/training/fine-tune';
import { applyInit, InitialWeightsError, parseInit, planInit, type ResolvedInit } from '../../../src/lib/training/init';
import { runTrainJob } from '../../../src/lib/training/job';
import { evaluateHeldOutSplit } from '../../../src/lib/training/evaluate';
import { trainLoop, type Batch } from '../../../src/lib/training/loop';
import { fileKey, memoryWeightCache } from '../../../src/lib/weights/cache';
import { initialWeightsResolver } from '../../../src/lib/workflows/initial-weights';
import { backbonesOf } from '../../../models/backbones/index';
import { parseSafetensors, type SafetensorsFile } from '../../../models/weights/safetensors';
import { hasTorch, readPretrained } from '../../fixtures/pretrained';
import { makeDb } from '../factories';
import { seedTinyCoins } from '../tiny-images';

const backend = { backend: 'cpu' as const, adapter: 'JavaScript CPU kernels' };
const CLASSES = ['dark', 'bright'];

if (!hasTorch) console.warn('[fine-tune] SKIPPED the checkpoint tests: /usr/bin/python3 cannot import torchvision (Debian python3-torch, python3-torchvision)');

beforeAll(async () => {
  await useBackend('cpu');
});

function classifier(seed = 1, epsilon?: number, size = 64): TrainableModel {
  return createTrainable('image-classification', { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: size, projection: null, dropout: 0 }, { seed, labels: CLASSES, batchNormEpsilon: epsilon });
}

const snapshot = (model: tf.LayersModel) => new Map(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));

function checkpointInit(file: SafetensorsFile, name = 'weights.safetensors'): ResolvedInit {
  return { kind: 'checkpoint', file, source: { kind: 'file', name, sha256: 'x', bytes: 1 } };
}

/** The pooled backbone features of the reference input (NCHW → NHWC). */
function features(trainable: TrainableModel, reference: SafetensorsFile): tf.Tensor {
  const input = reference.tensors.get('input')!;
  return tf.tidy(() => backbonesOf(trainable.model)[0]!.model.predict(tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor);
}

describe('first weights from a checkpoint', () => {
  it.skipIf(!hasTorch)('gives torchvision\'s features from a torchvision file (module. prefix) and a timm file (its epsilon)', async () => {
    const reference = parseSafetensors(readPretrained('reference'));
    for (const naming of ['torchvision', 'timm'] as const) {
      const resolved = checkpointInit(parseSafetensors(readPretrained(naming)));
      const spec = { task: 'image-classification' as const, model: { architecture: 'damage-classifier' as const, backbone: 'mobilenetv3-small' as const, inputSize: 64 } };
      const plan = planInit(resolved, spec, CLASSES);
      expect(plan.batchNormEpsilon).toBe(naming === 'timm' ? 1e-5 : undefined);
      const trainable = classifier(1, plan.batchNormEpsilon);
      const origin = await applyInit(trainable, resolved, plan);
      expect(origin).toMatchObject({ kind: 'file', naming });
      const expected = reference.tensors.get(naming)!;
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(features(trainable, reference), tf.tensor(expected.data, expected.shape)))).dataSync()[0]!);
      // timm's epsilon on weights calibrated for torchvision's lets activations grow (features up to ~500): compare relatively.
      const scale = Math.max(1, ...Array.from(expected.data, Math.abs));
      expect(diff / scale, naming).toBeLessThan(1e-4);
      trainable.dispose();
    }
  });

  it.skipIf(!hasTorch)('refuses a checkpoint that does not fit, naming the tensor and both shapes, and changes no variable', async () => {
    const file = parseSafetensors(readPretrained('torchvision'));
    const trainable = classifier(2);
    const before = snapshot(trainable.model);
    const plan = { head: false };

    const missing = new Map(file.tensors);
    missing.delete('module.features.4.block.2.fc1.bias');
    await expect(applyInit(trainable, checkpointInit({ ...file, tensors: missing }), plan)).rejects.toThrow(/missing tensor 'module\.features\.4\.block\.2\.fc1\.bias' \(expected shape \[24\]\)/);

    const reshaped = new Map(file.tensors);
    reshaped.set('module.features.12.1.running_var', { dtype: 'F32', shape: [575], data: new Float32Array(575) });
    await expect(applyInit(trainable, checkpointInit({ ...file, tensors: reshaped }), plan)).rejects.toThrow(
      /tensor 'module\.features\.12\.1\.running_var' has shape \[575\], expected \[576\]/,
    );

    const extra = new Map(file.tensors);
    extra.set('module.features.13.0.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    await expect(applyInit(trainable, checkpointInit({ ...file, tensors: extra }), plan)).rejects.toThrow(/unexpected tensor 'module\.features\.13\.0\.weight' with shape \[2\]/);

    expect(snapshot(trainable.model)).toEqual(before);
    trainable.dispose();
  });

  it('refuses another architecture before building anything, naming what the file holds', () => {
    const resnet: SafetensorsFile = { metadata: {}, tensors: new Map([['conv1.weight', { dtype: 'F32', shape: [64, 3, 7, 7], data: new Float32Array(64 * 3 * 49) }]]) };
    const spec = { task: 'image-classification' as const, model: { architecture: 'damage-classifier' as const, backbone: 'mobilenetv3-small' as const } };
    expect(() => planInit(checkpointInit(resnet), spec, CLASSES)).toThrow(InitialWeightsError);
    expect(() => planInit(checkpointInit(resnet), spec, CLASSES)).toThrow(/is a resnet18 \('conv1\.weight' \[64, 3, 7, 7\]\), but the model's backbone is mobilenetv3-small/);
    const unknown: SafetensorsFile = { metadata: {}, tensors: new Map([['encoder.layer.0.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]]) };
    expect(() => planInit(checkpointInit(unknown), spec, CLASSES)).toThrow(/holds no mobilenetv3-small weights we recognise.*'encoder\.layer\.0\.weight'/);
  });

  it('reads each form of init and names them on a bad one', () => {
    expect(parseInit(undefined)).toEqual({ kind: 'scratch' });
    expect(parseInit('hub:timm/resnet18.tv_in1k')).toEqual({ kind: 'hub', id: 'timm/resnet18.tv_in1k' });
    expect(parseInit('file:my weights.safetensors')).toEqual({ kind: 'file', name: 'my weights.safetensors' });
    expect(parseInit('version:car-damage@12')).toEqual({ kind: 'version', name: 'car-damage', version: 12 });
    expect(() => parseInit('version:car-damage')).toThrow(/init must be scratch, hub:<owner\/name>, file:<name>\.safetensors or version:<model>@<n>, got "version:car-damage"/);
    expect(() => parseInit('hub:noslash')).toThrow(InitialWeightsError);
  });
});

describe('freeze-then-unfreeze schedule', () => {
  it('warms up, decays by cosine and scales the backbone once unfrozen', () => {
    const schedule = { freezeEpochs: 1, backboneLrMultiplier: 0.1, warmupEpochs: 2, cosine: true };
    const rates = [1, 2, 3, 4, 5].map((e) => epochRates(schedule, e, 5, 1e-3));
    expect(rates.map((r) => r.frozen)).toEqual([true, false, false, false, false]);
    expect(rates.map((r) => r.learningRate)).toEqual([5e-4, 1e-3, 1e-3, 0.5e-3 * (1 + Math.cos(Math.PI / 3)), 0.5e-3 * (1 + Math.cos((2 * Math.PI) / 3))]);
    expect(rates.map((r) => r.backboneLearningRate)).toEqual([0, ...rates.slice(1).map((r) => r.learningRate * 0.1)]);
  });

  it('applies the backbone multiplier to the step Adam takes', () => {
    const [a, b] = [tf.variable(tf.zeros([3]), true, 'ft_a'), tf.variable(tf.zeros([3]), true, 'ft_b')];
    const optimizer = new ConstantsAdam(0.01, 0.9, 0.999);
    optimizer.setLearningRates(0.01, { names: new Set(['ft_b']), learningRate: 0.001 });
    const grad = tf.tensor1d([1, -2, 3]);
    optimizer.applyGradients({ ft_a: grad, ft_b: grad });
    const [stepA, stepB] = [a.dataSync(), b.dataSync()];
    // Adam's first step is −lr · g/(|g| + ε): −0.01 · sign(g), and a tenth of it for the scaled variable.
    stepA.forEach((value, i) => expect(stepB[i]! / value).toBeCloseTo(0.1, 6));
    expect(optimizer.learningRateOf('ft_b')).toBe(0.001);
    optimizer.dispose();
    tf.dispose([a, b, grad]);
  });

  it('leaves backbone weights and BatchNorm statistics bit-identical while frozen, then trains them at the recorded rates', async () => {
    const trainable = classifier(3, undefined, 32);
    const backbones = backbonesOf(trainable.model);
    const optimizer = new ConstantsAdam(0.01, 0.9, 0.999);
    const schedule = { freezeEpochs: 2, backboneLrMultiplier: 0.5, warmupEpochs: 0, cosine: true };
    const driver = scheduleDriver(schedule, backbones, trainable.model, optimizer, 3, 0.01);
    const backboneNames = new Set(backbones.flatMap((b) => b.model.weights.map((w) => w.originalName)));
    const pick = (all: Map<string, number[]>, inBackbone: boolean) => [...all].filter(([name]) => backboneNames.has(name) === inBackbone);
    const start = snapshot(trainable.model);
    const after: Map<string, number[]>[] = [];
    const rates: { head: number; backbone: number }[] = [];
    const random = mulberry32(9);
    const train = async function* (): AsyncIterable<Batch> {
      for (let i = 0; i < 2; i++) {
        yield { xs: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', Math.floor(random() * 1e6)), ys: tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2), size: 4 };
      }
    };
    const backboneVariable = (backbones[0]!.model.weights[0]!.read() as tf.Variable).name;
    const headVariable = (trainable.model.weights.at(-1)!.read() as tf.Variable).name;
    await trainLoop({
      model: trainable.model,
      optimizer,
      loss: trainable.loss,
      train,
      batchesPerEpoch: 2,
      epochs: 3,
      validate: async () => ({}),
      variables: driver.variables,
      beforeEpoch: (epoch) => {
        driver.beforeEpoch(epoch);
        rates.push({ head: optimizer.learningRateOf(headVariable), backbone: optimizer.learningRateOf(backboneVariable) });
      },
      onEpochEnd: async () => void after.push(snapshot(trainable.model)),
    });
    for (const epoch of [0, 1]) {
      expect(pick(after[epoch]!, true), `backbone after frozen epoch ${epoch + 1}`).toEqual(pick(start, true)); // moving mean/variance included
      expect(pick(after[epoch]!, false)).not.toEqual(pick(epoch === 0 ? start : after[0]!, false));
    }
    expect(pick(after[2]!, true)).not.toEqual(pick(start, true));
    expect(rates).toEqual([1, 2, 3].map((e) => ({ head: epochRates(schedule, e, 3, 0.01).learningRate, backbone: epochRates(schedule, e, 3, 0.01).backboneLearningRate })));
    optimizer.dispose();
    trainable.dispose();
  });
});

/** A two-class image dataset of flat grey PNGs (dark vs bright, with noise). */
async function seedImages(db: ReturnType<typeof makeDb>, id: string) {
  const png = (cls: number, seed: number) => {
    const random = mulberry32(seed);
    return encodePng({ width: 16, height: 16, channels: 1, data: Uint8Array.from({ length: 256 }, () => Math.round(40 + cls * 150 + random() * 30)) }, 1);
  };
  const samples: SampleRow[] = Array.from({ length: 12 }, (_, i) => ({
    id: `${id}${i}`,
    datasetId: id,
    split: i % 4 === 0 ? 'val' : 'train',
    label: CLASSES[i % 2]!,
    hash: `${id}h${i}`,
    path: `${CLASSES[i % 2]}/${i}.png`,
    blobs: [new Blob([png(i % 2, i) as BlobPart], { type: 'image/png' })],
  }));
  await db.datasets.add({ id, name: id, task: 'image-classification', createdAt: 1, sampleCount: samples.length, labels: CLASSES });
  await db.samples.bulkAdd(samples);
}

const jobSpec = (datasetId: string, overrides: Partial<TrainJobSpec> = {}): TrainJobSpec => ({
  task: 'image-classification',
  datasetId,
  model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, projection: null, dropout: 0 },
  epochs: 1,
  batchSize: 6,
  optimizer: 'adam',
  learningRate: 0.005,
  seed: 4,
  ...overrides,
});

describe('runs that start from first weights', () => {
  it('warm-starts from a registered version: backbone and head taken, kept while frozen, recorded in the lineage', async () => {
    const db = makeDb();
    await seedImages(db, 'cars');
    const parentRun = await runTrainJob(db, jobSpec('cars'), { backend });
    parentRun.trainable.dispose();
    const registry = new ModelRegistry(db);
    const parent = await registry.registerFromRun(parentRun.runId, { name: 'cars', weights: (await findRunModel(db, parentRun.runId))! });

    const cache = memoryWeightCache();
    const spec = jobSpec('cars', { init: 'version:cars@1', model: { ...jobSpec('cars').model, fineTune: { freezeEpochs: 1 } } as TrainJobSpec['model'] });
    const child = await runTrainJob(db, spec, { backend, initialWeights: initialWeightsResolver(db, { cache }) });
    const run = await db.runs.get(child.runId);
    expect(run?.params).toMatchObject({ init: 'version:cars@1', model: { fineTune: { freezeEpochs: 1 } } });
    expect(run?.initialWeights).toEqual({ kind: 'version', name: 'cars', version: 1, id: parent.id, head: true });

    // The one epoch was frozen: the backbone (BatchNorm statistics included) is the parent's, bit for bit.
    const parentModel = await (await import('../../../src/lib/tasks/registry')).loadTrainable({ modelJson: parent.modelJson!, shards: parent.shards! });
    const parentWeights = snapshot(parentModel.model);
    const childWeights = snapshot(child.trainable.model);
    const backboneNames = backbonesOf(child.trainable.model).flatMap((b) => b.model.weights.map((w) => w.originalName));
    expect(backboneNames.length).toBeGreaterThan(100);
    for (const name of backboneNames) expect(childWeights.get(name), name).toEqual(parentWeights.get(name));
    parentModel.dispose();
    child.trainable.dispose();

    const version = await registry.registerFromRun(child.runId, { name: 'cars', weights: (await findRunModel(db, child.runId))! });
    expect(version.lineage?.initialWeights).toMatchObject({ kind: 'version', name: 'cars', version: 1 });
    expect(version.card).toMatch(/First weights: cars v1 \(backbone and head\)/);
  });

  it.skipIf(!hasTorch)('starts from a picked file kept in the weight cache and records its name and sha256', async () => {
    const db = makeDb();
    await seedImages(db, 'shop');
    const bytes = readPretrained('timm');
    const cache = memoryWeightCache();
    const { sha256Hex } = await import('../../../src/lib/hash');
    const sha256 = await sha256Hex(bytes);
    await cache.put({ key: fileKey('mnv3.safetensors'), bytes: bytes.byteLength, sha256, storedAt: 1 }, bytes);
    const { runId, trainable } = await runTrainJob(db, jobSpec('shop', { init: 'file:mnv3.safetensors' }), { backend, initialWeights: initialWeightsResolver(db, { cache }) });
    trainable.dispose();
    expect((await db.runs.get(runId))?.initialWeights).toEqual({ kind: 'file', name: 'mnv3.safetensors', sha256, bytes: bytes.byteLength, naming: 'timm', batchNormEpsilon: 1e-5 });

    const failed = runTrainJob(db, jobSpec('shop', { init: 'file:gone.safetensors' }), { backend, initialWeights: initialWeightsResolver(db, { cache }) });
    await expect(failed).rejects.toThrow(/no weights file named "gone\.safetensors" is stored in this browser/);
  });

  it.skipIf(!hasTorch)('resumes a fine-tuning run interrupted while frozen to the same weights, without the file', async () => {
    const db = makeDb();
    await seedImages(db, 'res');
    const bytes = readPretrained('timm');
    const cache = memoryWeightCache();
    await cache.put({ key: fileKey('mnv3.safetensors'), bytes: bytes.byteLength, sha256: 'unused', storedAt: 1 }, bytes);
    const model = { ...jobSpec('res').model, fineTune: { freezeEpochs: 1, backboneLrMultiplier: 0.5, warmupEpochs: 1, cosine: true } } as TrainJobSpec['model'];
    const spec = jobSpec('res', { init: 'file:mnv3.safetensors', epochs: 3, model });
    const whole = await runTrainJob(db, spec, { backend, initialWeights: initialWeightsResolver(db, { cache }) });
    const expected = snapshot(whole.trainable.model);
    whole.trainable.dispose();

    let runId = '';
    const interrupted = runTrainJob(db, spec, {
      backend,
      initialWeights: initialWeightsResolver(db, { cache }),
      onRunCreated: (id) => (runId = id),
      onProgress: (event) => {
        if (event.kind === 'checkpoint' && event.epoch === 1) throw new Error('tab closed');
      },
    });
    await expect(interrupted).rejects.toThrow('tab closed');
    await db.runs.update(runId, { status: 'failed', resumable: true });
    // The file is gone from this browser: the resumed run takes its weights from the checkpoint, and the recorded epsilon.
    const { resumeTrainJob } = await import('../../../src/lib/training/job');
    const resumed = await resumeTrainJob(db, runId, { backend, initialWeights: initialWeightsResolver(db, { cache: memoryWeightCache() }) });
    const got = snapshot(resumed.trainable.model);
    const differing = [...expected].filter(([name, values]) => values.some((v, i) => !Object.is(v, got.get(name)![i]))).map(([name]) => name);
    expect(differing).toEqual([]);
    resumed.trainable.dispose();
  });
});

describe('frozen epochs on the backbone features', () => {
  const frozenSpec = (datasetId: string, task: 'image-classification' | 'coin-year'): TrainJobSpec => ({
    ...jobSpec(datasetId),
    task,
    model:
      task === 'coin-year'
        ? { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 32, projection: { units: 8 }, dropout: 0.3, augmentation: 'none', fineTune: { freezeEpochs: 3 } }
        : { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, projection: { units: 8 }, dropout: 0.3, augmentation: 'none', fineTune: { freezeEpochs: 3 } },
    epochs: 3,
    batchSize: 4,
  });

  it.each(['image-classification', 'coin-year'] as const)(
    '%s: keep every backbone weight and BatchNorm statistic bit-identical, and reused features train the head as recomputed ones do',
    async (task) => {
      const db = makeDb();
      const datasetId = task === 'coin-year' ? await seedTinyCoins(db, 12) : (await seedImages(db, 'cars'), 'cars');
      const spec = frozenSpec(datasetId, task);
      const before = tf.memory().numTensors;
      const notes: string[] = [];
      const reused = await runTrainJob(db, spec, { backend, onProgress: (e) => void (e.kind === 'log' && notes.push(e.message)) });
      const recomputed = await runTrainJob(db, spec, { backend, reuseFeatures: false });
      expect(notes).toEqual([
        'epoch 1: backbone frozen, the head trains on its features (no backbone gradients)',
        'epoch 2: backbone frozen, the head trains on the backbone features kept from an earlier epoch',
        'epoch 3: backbone frozen, the head trains on the backbone features kept from an earlier epoch',
      ]);
      // The same seed builds the same first weights: what a frozen backbone must still hold.
      const fresh = createTrainable(spec.task, spec.model, { seed: spec.seed, labels: CLASSES, trainingTargets: [1900, 1950] });
      const backboneNames = new Set(backbonesOf(fresh.model).flatMap((b) => b.model.weights.map((w) => w.originalName)));
      const part = (model: tf.LayersModel, inBackbone: boolean) => [...snapshot(model)].filter(([name]) => backboneNames.has(name) === inBackbone);
      expect(backboneNames.size).toBeGreaterThan(0);
      // Training the head apart leaves the saved architecture as it was (the head's second call is not in it).
      expect(reused.trainable.model.toJSON(null, false)).toEqual(fresh.model.toJSON(null, false));
      expect(part(reused.trainable.model, true)).toEqual(part(fresh.model, true)); // moving mean/variance included
      expect(part(recomputed.trainable.model, true)).toEqual(part(fresh.model, true));
      const head = part(reused.trainable.model, false);
      expect(head).not.toEqual(part(fresh.model, false));
      for (const [i, [name, values]] of part(recomputed.trainable.model, false).entries()) {
        expect(head[i]![0]).toBe(name);
        expect(Math.max(...values.map((v, j) => Math.abs(v - head[i]![1][j]!)))).toBeLessThan(1e-5);
      }
      // Validation while frozen (the head on stored features) reports what the whole model predicts.
      const whole = await evaluateHeldOutSplit(db, reused.trainable, datasetId, { batchSize: 4, splits: ['val'] });
      expect(reused.metrics.val_loss).toBeCloseTo(whole.metrics.loss!, 5);
      fresh.dispose();
      reused.trainable.dispose();
      recomputed.trainable.dispose();
      expect(tf.memory().numTensors).toBe(before);
      db.close();
    },
    120_000,
  );
});
