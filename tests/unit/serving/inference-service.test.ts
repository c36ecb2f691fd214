import * as Comlink from 'comlink';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError } from '../../../src/lib/images/decode';
import { RequestValidationError } from '../../../src/lib/serving/errors';
import type { PredictorFactory } from '../../../src/lib/serving/types';
import { imageBatch } from '../../../src/lib/tasks/images';
import { inputToRow } from '../../../src/lib/tasks/loaded';
import { errorDetails, keepErrorDetails } from '../../../src/lib/workers/client';
import { InferenceService } from '../../../src/lib/workers/inference-service';
import { registerPredictorLoader, loadPredictor } from '../../../src/lib/serving/loaders';
import { workerPredictorFactory } from '../../../src/lib/serving/worker-predictor';
import { ServingSdk } from '../../../src/lib/serving/sdk';
import { makeDb } from '../factories';
import { addVersion, fakePredictors, promote } from './fakes';

describe('InferenceService: models in the inference worker', () => {
  it('loads a version once, predicts by key, and unloads it', async () => {
    const fake = fakePredictors();
    const service = new InferenceService(fake.factory);
    const db = makeDb();
    const row = await addVersion(db, 'sentiment', 2);
    const [a, b] = await Promise.all([service.loadModel(row, 'cpu'), service.loadModel(row, 'cpu')]);
    expect(a).toEqual({ key: 'sentiment@2', task: 'text-classification', backend: 'cpu', labels: ['negative', 'neutral', 'positive'] });
    expect(b.key).toBe(a.key);
    expect(fake.loads).toEqual(['sentiment@2']);
    await expect(service.predict(a.key, [{ text: 'great' }])).resolves.toMatchObject([{ label: 'positive' }]);
    await service.unloadModel(a.key);
    expect(fake.disposed).toEqual(['sentiment@2']);
    await expect(service.predict(a.key, [{ text: 'great' }])).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
  });

  it('serves the SDK through the worker predictor, and reloads after the worker lost its models', async () => {
    const fake = fakePredictors();
    let service = new InferenceService(fake.factory);
    const db = makeDb();
    await addVersion(db, 'sentiment', 1);
    await promote(db, 'sentiment', 1);
    const sdk = new ServingSdk({ db, predictors: workerPredictorFactory(() => service, async () => 'cpu') });
    await expect(sdk.predict('sentiment', 'love it')).resolves.toMatchObject({ version: 1, backend: 'cpu', prediction: { label: 'positive' } });
    service = new InferenceService(fake.factory); // the worker restarted: its models are gone
    await expect(sdk.predict('sentiment', 'love it')).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    await expect(sdk.predict('sentiment', 'love it')).resolves.toMatchObject({ version: 1 });
    expect(fake.loads).toEqual(['sentiment@1', 'sentiment@1']);
  });
});

describe('predictor loaders', () => {
  it('say clearly when a task has no predictor yet, and use the registered one otherwise', async () => {
    const db = makeDb();
    // A model named car-damage (as registered before the task was image classification) serves image classification.
    const row = await addVersion(db, 'car-damage', 1);
    await expect(loadPredictor(row)).rejects.toThrow(/cannot serve image-classification models yet/);
    await expect(loadPredictor(await addVersion(db, 'mystery', 1))).rejects.toThrow(/does not say which task/);
    registerPredictorLoader('image-classification', fakePredictors().factory);
    await expect(loadPredictor(row)).resolves.toMatchObject({ task: 'image-classification' });
  });
});

describe('an image the model cannot decode, from the worker to the Predict form (issue #25)', () => {
  it('is a 422 naming the side, through comlink, and not a model error', async () => {
    keepErrorDetails();
    // The worker's end: the real decoder (sharp here, createImageBitmap in browsers) behind comlink.
    const decoding: PredictorFactory = async (row) => ({
      task: 'coin-year',
      backend: 'cpu',
      async predict(inputs) {
        const rows = inputs.map(inputToRow);
        (await imageBatch(rows, 0, 8, undefined, undefined)).dispose();
        (await imageBatch(rows, 1, 8, undefined, undefined)).dispose();
        return inputs.map(() => ({ kind: 'regression', value: 1800 + row.version }));
      },
      async dispose() {},
    });
    const channel = new MessageChannel();
    Comlink.expose(new InferenceService(decoding), channel.port1 as unknown as Comlink.Endpoint);
    const remote = Comlink.wrap<InferenceService>(channel.port2 as unknown as Comlink.Endpoint);
    try {
      const db = makeDb();
      await addVersion(db, 'coin-year', 1);
      await promote(db, 'coin-year', 1);
      const failures: string[] = [];
      const sdk = new ServingSdk({ db, predictors: workerPredictorFactory(() => remote, async () => 'cpu'), sink: { record: () => {}, recordFailure: (f) => void failures.push(f.error) } });
      const png = new Uint8Array(await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c84' } }).png().toBuffer());
      await expect(sdk.predict('coin-year', { front: png, back: png })).resolves.toMatchObject({ prediction: { value: 1801 } });

      // Whole chunks around damaged pixels: the container check passes, the decoder in the worker refuses.
      const damaged = new Uint8Array(png);
      const idat = Buffer.from(damaged).indexOf('IDAT');
      damaged.fill(0x55, idat + 4, idat + 30);
      const error = await sdk.predict('coin-year', { front: png, back: damaged }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestValidationError);
      expect(error).toMatchObject({ status: 422, code: 'invalid_image', field: 'input.back', detail: expect.stringMatching(/^could not be decoded as an image \(.+\)$/) });
      const batch = await sdk.predictBatch('coin-year', [{ front: png, back: png }, { front: damaged, back: png }]).catch((e: unknown) => e);
      expect(batch).toMatchObject({ status: 422, field: 'inputs[1].front' });
      // Cut short: refused before the worker is asked.
      const cut = await sdk.predict('coin-year', { front: png.subarray(0, png.length >> 1), back: png }).catch((e: unknown) => e);
      expect(cut).toMatchObject({ status: 422, field: 'input.front', detail: expect.stringMatching(/^is not a whole PNG image: it is truncated/) });
      expect(failures).toEqual([]);
    } finally {
      remote[Comlink.releaseProxy]();
      channel.port1.close();
      channel.port2.close();
    }
  });

  it('keepErrorDetails sends an error\'s own plain fields with its name and message', () => {
    keepErrorDetails();
    const handler = Comlink.transferHandlers.get('throw')!;
    const error = new ImageDecodeError('inputs[0] could not be decoded as an image: bad', 'bad', { sample: 2, image: 1 });
    const [serialized] = handler.serialize({ value: Object.assign(error, { extra: { not: 'plain' } }) });
    expect(serialized).toEqual({ isError: true, value: { name: 'ImageDecodeError', message: error.message, stack: error.stack, reason: 'bad', sample: 2, image: 1 } });
    expect(errorDetails(new Error('plain'))).toEqual({});
  });
});
