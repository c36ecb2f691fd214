import { describe, expect, it } from 'vitest';
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
    expect(a).toEqual({ key: 'sentiment@2', task: 'sentiment', backend: 'cpu', labels: ['negative', 'neutral', 'positive'] });
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
