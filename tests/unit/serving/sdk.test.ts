import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SERVING_LIMITS, type PredictionRecord } from '../../../src/lib/serving/types';
import { formErrorMessage, ServingSdk } from '../../../src/lib/serving/sdk';
import { TASKS } from '../../../src/lib/tasks/registry';
import { makeDb } from '../factories';
import { addVersion, deferred, fakePredictors, JPEG, PNG, promote, settle, type Deferred } from './fakes';

function setup(options: Parameters<typeof fakePredictors>[0] = {}, idleMs = 0) {
  const db = makeDb();
  const predictors = fakePredictors(options);
  const logged: PredictionRecord[] = [];
  const sdk = new ServingSdk({ db, predictors: predictors.factory, sink: { record: (e) => void logged.push(e) }, idleMs, clock: () => 1234 });
  return { db, sdk, logged, ...predictors };
}

describe('ServingSdk: version resolution', () => {
  it('predicts with the production version and logs it with the source', async () => {
    const { db, sdk, logged, loads } = setup();
    await addVersion(db, 'sentiment', 1);
    await addVersion(db, 'sentiment', 2);
    await promote(db, 'sentiment', 2);
    const result = await sdk.predict('sentiment', 'I love it', { source: 'ui' });
    expect(result).toMatchObject({ model: 'sentiment', version: 2, task: 'text-classification', backend: 'cpu', prediction: { label: 'positive' } });
    expect(loads).toEqual(['sentiment@2']);
    expect(logged).toEqual([expect.objectContaining({ ts: 1234, model: 'sentiment', version: 2, source: 'ui', input: { text: 'I love it' }, batchSize: 1 })]);
  });

  it('answers only once the sink has stored the prediction (the Predict page, REST and SDK callers alike)', async () => {
    const db = makeDb();
    const stored = deferred();
    let recorded = false;
    let answered = false;
    const record = () => ((recorded = true), stored.promise);
    const sdk = new ServingSdk({ db, predictors: fakePredictors().factory, sink: { record } });
    await addVersion(db, 'sentiment', 1);
    await promote(db, 'sentiment', 1);
    const answer = sdk.predict('sentiment', 'I love it', { source: 'ui' }).then((result) => ((answered = true), result));
    await vi.waitFor(() => expect(recorded).toBe(true));
    await settle(); // an answer that did not wait for its row would be in by now
    expect(answered).toBe(false);
    stored.resolve();
    await expect(answer).resolves.toMatchObject({ version: 1, prediction: { label: expect.any(String) } });
  });

  it('answers an explicit version, and 404 for one that does not exist', async () => {
    const { db, sdk } = setup();
    await addVersion(db, 'coin-year', 1);
    await addVersion(db, 'coin-year', 2);
    await promote(db, 'coin-year', 2);
    const result = await sdk.predict('coin-year', { front: PNG, back: JPEG }, { version: 1 });
    expect(result).toMatchObject({ version: 1, prediction: { kind: 'regression', value: 1801 } });
    await expect(sdk.predict('coin-year', { front: PNG, back: JPEG }, { version: 9 })).rejects.toMatchObject({ status: 404, code: 'unknown_version' });
  });

  it('tells unknown models (404) from known ones without a production version (503)', async () => {
    const { db, sdk } = setup();
    await expect(sdk.predict('no-such-model', 'x')).rejects.toMatchObject({ name: 'UnknownModelError', status: 404 });
    // A built-in task is a known model even before anything is registered.
    await expect(sdk.predict('sentiment', 'x')).rejects.toMatchObject({ name: 'NoProductionVersionError', status: 503 });
    await addVersion(db, 'my-coins', 1, { tags: { task: 'coin-year' } });
    await expect(sdk.predict('my-coins', { front: PNG, back: PNG })).rejects.toMatchObject({ status: 503, code: 'no_production_version' });
    await promote(db, 'my-coins', 1);
    await expect(sdk.predict('my-coins', { front: PNG, back: PNG })).resolves.toMatchObject({ task: 'coin-year', version: 1 });
  });

  it('answers 503 when the alias points to a version that does not exist', async () => {
    const { db, sdk } = setup();
    await promote(db, 'sentiment', 7);
    await expect(sdk.predict('sentiment', 'x')).rejects.toThrow(/points to version 7, which does not exist/);
  });

  it('checks inputs against the task before loading anything', async () => {
    const { db, sdk, loads } = setup();
    await addVersion(db, 'coin-year', 1);
    await promote(db, 'coin-year', 1);
    await expect(sdk.predict('coin-year', { front: PNG } as never)).rejects.toMatchObject({ status: 422, field: 'input.back' });
    await expect(sdk.predict('coin-year', { front: PNG, back: new TextEncoder().encode('text') })).rejects.toMatchObject({
      status: 422,
      code: 'invalid_image',
      field: 'input.back',
    });
    await expect(sdk.predictBatch('sentiment', ['ok', ''])).rejects.toMatchObject({ status: 422, field: 'inputs[1].text' });
    expect(loads).toEqual([]);
  });

  it('counts model failures for the error rate, and never a request the client got wrong', async () => {
    const db = makeDb();
    await addVersion(db, 'coin-year', 1);
    await promote(db, 'coin-year', 1);
    const failures: string[] = [];
    let thrown: Error = new Error('out of memory');
    const sdk = new ServingSdk({
      db,
      predictors: async () => ({ task: 'coin-year', backend: 'cpu', predict: async () => Promise.reject(thrown), dispose: async () => {} }),
      sink: { record: () => {}, recordFailure: (f) => void failures.push(f.error) },
    });
    await expect(sdk.predict('coin-year', { front: PNG, back: JPEG })).rejects.toThrow('out of memory');
    thrown = Object.assign(new Error('x'), { name: 'ImageDecodeError', reason: 'bad data', sample: 0, image: 0 });
    await expect(sdk.predict('coin-year', { front: PNG, back: JPEG })).rejects.toMatchObject({ status: 422, field: 'input.front', message: 'input.front: could not be decoded as an image (bad data)' });
    await expect(sdk.predict('coin-year', { front: PNG, back: JPEG }, { version: 7 })).rejects.toMatchObject({ status: 404 });
    await expect(sdk.predict('coin-year', { front: PNG, back: PNG.subarray(0, 40) })).rejects.toMatchObject({ status: 422, field: 'input.back' });
    expect(failures).toEqual(['Error']);
  });

  it('words a refused input as the Predict form names it, so the user sees which side is at fault', async () => {
    const { db, sdk } = setup();
    await addVersion(db, 'coin-year', 1);
    await promote(db, 'coin-year', 1);
    const error = await sdk.predict('coin-year', { front: PNG, back: PNG.subarray(0, 45) }).catch((e: unknown) => e);
    expect(formErrorMessage(error, TASKS['coin-year'].serving.fields)).toMatch(/^Back \(reverse\): is not a whole PNG image: it is truncated: /);
    expect(formErrorMessage(new Error('worker crashed'), TASKS['coin-year'].serving.fields)).toBe('worker crashed');
  });

  it('reads Blobs, and logs one row per input of a batch', async () => {
    const { db, sdk, logged } = setup();
    await addVersion(db, 'coin-year', 3);
    await promote(db, 'coin-year', 3);
    const blob = new Blob([PNG], { type: 'image/png' });
    const result = await sdk.predictBatch('coin-year', [
      { front: blob, back: JPEG },
      { front: JPEG.buffer as ArrayBuffer, back: blob },
    ]);
    expect(result.predictions).toEqual([
      { kind: 'regression', value: 1803 },
      { kind: 'regression', value: 1803 },
    ]);
    expect(logged.map((e) => [e.version, e.batchSize, 'front' in e.input && e.input.front.type])).toEqual([
      [3, 2, 'image/png'],
      [3, 2, 'image/jpeg'],
    ]);
  });

  it('loads a version once for concurrent requests, and loads again after a failed load', async () => {
    let fail = true;
    const { db, sdk, loads } = setup({ failLoad: () => (fail ? new Error('weights are corrupt') : undefined) });
    await addVersion(db, 'sentiment', 1);
    await promote(db, 'sentiment', 1);
    await expect(sdk.predict('sentiment', 'a')).rejects.toThrow('weights are corrupt');
    fail = false;
    await Promise.all([sdk.predict('sentiment', 'a'), sdk.predict('sentiment', 'b'), sdk.predict('sentiment', 'c')]);
    expect(loads).toEqual(['sentiment@1', 'sentiment@1']);
  });

  it('reloads a predictor whose worker restarted', async () => {
    const { db, loads } = setup();
    let crash = true;
    const sdk = new ServingSdk({
      db,
      predictors: async (row) => {
        loads.push(`${row.name}@${row.version}`);
        return {
          task: 'text-classification',
          backend: 'cpu',
          predict: async (inputs) => {
            if (crash) throw Object.assign(new Error('worker died'), { name: 'WorkerCrashedError' });
            return inputs.map(() => ({ kind: 'classification', label: 'neutral', index: 1, score: 1, probabilities: [0, 1, 0] }));
          },
          dispose: async () => {},
        };
      },
    });
    await addVersion(db, 'sentiment', 1);
    await promote(db, 'sentiment', 1);
    await expect(sdk.predict('sentiment', 'a')).rejects.toThrow('worker died');
    crash = false;
    await expect(sdk.predict('sentiment', 'a')).resolves.toMatchObject({ version: 1 });
    expect(loads).toEqual(['sentiment@1', 'sentiment@1']);
  });
});

describe('ServingSdk: promotion while requests are in flight', () => {
  it('finishes in-flight requests on the old version, answers later ones with the new, then unloads the old', async () => {
    const gates = new Map<number, Deferred>([
      [1, deferred()],
      [2, deferred()],
    ]);
    const { db, sdk, disposed, calls } = setup({ gate: (version) => gates.get(version)?.promise });
    await addVersion(db, 'coin-year', 1);
    await addVersion(db, 'coin-year', 2);
    await promote(db, 'coin-year', 1);

    const inFlight = [sdk.predict('coin-year', { front: PNG, back: PNG }), sdk.predict('coin-year', { front: PNG, back: PNG })];
    while (calls.length < 2) await settle();
    expect(sdk.loaded()).toEqual([{ model: 'coin-year', version: 1, inFlight: 2 }]);

    await promote(db, 'coin-year', 2); // the registry moves the alias
    gates.get(2)!.resolve();
    const later = await sdk.predict('coin-year', { front: PNG, back: PNG });
    expect(later.version).toBe(2);
    // v1 is retired but still serving its two requests: not unloaded yet.
    expect(disposed).toEqual([]);
    expect(sdk.loaded()).toEqual(
      expect.arrayContaining([
        { model: 'coin-year', version: 1, inFlight: 2 },
        { model: 'coin-year', version: 2, inFlight: 0 },
      ]),
    );

    gates.get(1)!.resolve();
    const finished = await Promise.all(inFlight);
    expect(finished.map((r) => [r.version, r.prediction])).toEqual([
      [1, { kind: 'regression', value: 1801 }],
      [1, { kind: 'regression', value: 1801 }],
    ]);
    await settle();
    expect(disposed).toEqual(['coin-year@1']);
    expect(sdk.loaded()).toEqual([{ model: 'coin-year', version: 2, inFlight: 0 }]);
  });

  it('unloads the old version at once when nothing is in flight', async () => {
    const { db, sdk, disposed } = setup();
    await addVersion(db, 'sentiment', 1);
    await addVersion(db, 'sentiment', 2);
    await promote(db, 'sentiment', 1);
    await sdk.predict('sentiment', 'a');
    await promote(db, 'sentiment', 2);
    await expect(sdk.predict('sentiment', 'a')).resolves.toMatchObject({ version: 2 });
    await settle();
    expect(disposed).toEqual(['sentiment@1']);
  });

  it('does not flip back when a request that read the alias before the promotion finishes after it', async () => {
    const aliasRead = deferred();
    const { db, sdk, disposed } = setup();
    await addVersion(db, 'sentiment', 1);
    await addVersion(db, 'sentiment', 2);
    await promote(db, 'sentiment', 2);
    // Request A reads the alias first (as v1), but is slowed before it acquires the model.
    const productionVersion = sdk.productionVersion.bind(sdk);
    let first = true;
    sdk.productionVersion = async (model: string) => {
      if (!first) return productionVersion(model);
      first = false;
      await aliasRead.promise;
      return 1;
    };
    const a = sdk.predict('sentiment', 'a');
    await expect(sdk.predict('sentiment', 'b')).resolves.toMatchObject({ version: 2 });
    aliasRead.resolve();
    await expect(a).resolves.toMatchObject({ version: 1 });
    await settle();
    // v1 was served for A alone and unloaded after it; v2 stays the loaded production version.
    expect(disposed).toEqual(['sentiment@1']);
    expect(sdk.loaded()).toEqual([{ model: 'sentiment', version: 2, inFlight: 0 }]);
  });

  it('keeps a version asked for by number for a while, then unloads it', async () => {
    const timers: (() => void)[] = [];
    const db = makeDb();
    const predictors = fakePredictors();
    const sdk = new ServingSdk({ db, predictors: predictors.factory, idleMs: 1000, timers: { set: (fn) => timers.push(fn), clear: () => {} } });
    await addVersion(db, 'sentiment', 1);
    await addVersion(db, 'sentiment', 2);
    await promote(db, 'sentiment', 2);
    await sdk.predict('sentiment', 'a', { version: 1 });
    await sdk.predict('sentiment', 'a', { version: 1 });
    expect(predictors.loads).toEqual(['sentiment@1']);
    expect(predictors.disposed).toEqual([]);
    timers.at(-1)!();
    await settle();
    expect(predictors.disposed).toEqual(['sentiment@1']);
  });
});

describe('ServingSdk: listing', () => {
  it('lists built-in tasks and registered models with production versions and signatures', async () => {
    const { db, sdk } = setup();
    const coinSignature = {
      inputs: [
        { name: 'front_image_base64', type: 'string' as const },
        { name: 'back_image_base64', type: 'string' as const },
        { name: 'front', type: 'tensor' as const, 'tensor-spec': { dtype: 'float32', shape: [-1, 64, 64, 3] } },
        { name: 'back', type: 'tensor' as const, 'tensor-spec': { dtype: 'float32', shape: [-1, 64, 64, 3] } },
      ],
      outputs: [{ name: 'year', type: 'double' as const }],
    };
    await addVersion(db, 'coin-year', 1);
    await addVersion(db, 'coin-year', 2, { signature: coinSignature });
    await promote(db, 'coin-year', 2);
    // Tagged with the text task's earlier name, as versions registered before it was renamed are.
    await addVersion(db, 'tweets', 1, { tags: { task: 'sentiment' } });
    await addVersion(db, 'car-damage', 1);
    const models = await sdk.listModels();
    expect(models.map((m) => m.name)).toEqual(['car-damage', 'coin-year', 'image-classification', 'sentiment', 'text-classification', 'tweets']);
    // A model registered as car-damage (the task's earlier name) serves image classification.
    expect(models[0]).toMatchObject({ task: 'image-classification', productionVersion: undefined, signature: { inputs: [{ name: 'image_base64', type: 'string' }] } });
    expect(models[1]).toMatchObject({ task: 'coin-year', productionVersion: 2, aliases: { production: 2 }, signature: coinSignature });
    expect(models[1]!.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(models[2]).toMatchObject({ task: 'image-classification', versions: [], signature: { inputs: [{ name: 'image_base64', type: 'string' }] } });
    // models/sentiment serves the text task's preset before anything is registered, as models/text-classification does.
    expect(models[3]).toMatchObject({ task: 'text-classification', versions: [] });
    expect(models[3]!.signature).toEqual({ inputs: [{ name: 'text', type: 'string' }], outputs: [{ name: 'label', type: 'string' }, { name: 'score', type: 'double' }] });
    expect(models[4]).toMatchObject({ task: 'text-classification', versions: [], signature: models[3]!.signature });
    expect(models[5]).toMatchObject({ task: 'text-classification', productionVersion: undefined, signature: { inputs: [{ name: 'text', type: 'string' }] } });
  });

  it('describes a built-in task without versions by its REST columns only (no model, so no tensor shapes)', async () => {
    const { sdk } = setup();
    const coin = (await sdk.listModels()).find((m) => m.name === 'coin-year');
    expect(coin?.signature).toEqual({
      inputs: [
        { name: 'front_image_base64', type: 'string' },
        { name: 'back_image_base64', type: 'string' },
      ],
      outputs: [{ name: 'year', type: 'double' }],
    });
  });
});

describe('ServingSdk: limits', () => {
  it('refuses an image Blob over the limit with 413 without reading it', async () => {
    const db = makeDb();
    const sdk = new ServingSdk({ db, predictors: fakePredictors().factory, limits: async () => ({ ...DEFAULT_SERVING_LIMITS, maxImageBytes: 8 }) });
    const blob = new Blob([PNG, PNG]);
    const read = vi.spyOn(blob, 'arrayBuffer');
    await expect(sdk.predict('image-classification', { image: blob })).rejects.toMatchObject({ status: 413, field: 'input.image' });
    await addVersion(db, 'car-damage', 1);
    await expect(sdk.predict('car-damage', { image: blob })).rejects.toMatchObject({ status: 413, field: 'input.image' });
    expect(read).not.toHaveBeenCalled();
  });
});
