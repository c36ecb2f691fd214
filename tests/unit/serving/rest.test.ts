import { beforeAll, describe, expect, it } from 'vitest';
import { saveToBlobs } from '../../../models/io';
import { useBackend } from '../../../src/lib/backends/tfjs';
import { ModelRegistry } from '../../../src/lib/registry/registry';
import { loadPredictor } from '../../../src/lib/serving/loaders';
import { createTrainable } from '../../../src/lib/tasks/registry';
import { registerTaskPredictors } from '../../../src/lib/workflows/predictors';
import { createRestHandler, apiRouteOf } from '../../../src/lib/serving/rest';
import { ServingSdk } from '../../../src/lib/serving/sdk';
import { DEFAULT_SERVING_LIMITS, type PredictionRecord, type ServingLimits } from '../../../src/lib/serving/types';
import { makeDb } from '../factories';
import { addVersion, b64, fakePredictors, JPEG, PNG, promote } from './fakes';

const BASE = 'http://loupe.test/sub/dir/api/';

function setup(limits: Partial<ServingLimits> = {}) {
  const db = makeDb();
  const predictors = fakePredictors();
  const logged: PredictionRecord[] = [];
  const sdk = new ServingSdk({ db, predictors: predictors.factory, sink: { record: (e) => void logged.push(e) } });
  const handle = createRestHandler({ sdk, limits: async () => ({ ...DEFAULT_SERVING_LIMITS, ...limits }) });
  return { db, sdk, handle, logged, ...predictors };
}

const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(BASE + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const get = (route: string) => new Request(BASE + route);

async function answer(response: Response) {
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

const coinBody = { inputs: [{ front_image_base64: b64(PNG), back_image_base64: b64(JPEG) }] };

describe('REST routing', () => {
  it('finds the route under the api segment of any base path', () => {
    expect(apiRouteOf('http://h/app/api/models/coin-year/invocations')).toBe('models/coin-year/invocations');
    expect(apiRouteOf('http://h/api/ping?x=1')).toBe('ping');
    expect(apiRouteOf('http://h/other')).toBeUndefined();
  });

  it('answers ping, health and version', async () => {
    const { handle } = setup();
    await expect(answer(await handle(get('ping')))).resolves.toMatchObject({ status: 200, body: { status: 'ok' } });
    await expect(answer(await handle(get('health')))).resolves.toMatchObject({ status: 200, body: { status: 'ok', loaded: [] } });
    await expect(answer(await handle(get('version')))).resolves.toMatchObject({ status: 200, body: { version: expect.any(String) } });
  });

  it('answers unknown endpoints with 404 and wrong methods with 405', async () => {
    const { handle } = setup();
    await expect(answer(await handle(get('nope')))).resolves.toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' }, error_code: 'ENDPOINT_NOT_FOUND' },
    });
    const wrong = await handle(get('models/coin-year/invocations'));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await handle(post('ping', {}))).status).toBe(405);
    expect((await handle(get('models/a%ZZ'))).status).toBe(404);
  });

  it('lists models with production versions and signatures', async () => {
    const { db, handle } = setup();
    await addVersion(db, 'coin-year', 1);
    await promote(db, 'coin-year', 1);
    const { status, body } = await answer(await handle(get('models')));
    expect(status).toBe(200);
    const models = body.models as { name: string; production_version: number | null; signature: { inputs: { name: string }[] } }[];
    const coin = models.find((m) => m.name === 'coin-year')!;
    expect(coin.production_version).toBe(1);
    expect(coin.signature.inputs.map((i) => i.name)).toEqual(['front_image_base64', 'back_image_base64']);
    expect(models.find((m) => m.name === 'sentiment')!.production_version).toBeNull();
    await expect(answer(await handle(get('models/coin-year')))).resolves.toMatchObject({ status: 200, body: { name: 'coin-year' } });
    expect((await handle(get('models/unknown'))).status).toBe(404);
  });
});

describe('POST api/models/{name}/invocations', () => {
  it('answers the coin contract with {"predictions": [year]} and the version in a header, and logs the request as rest', async () => {
    const { db, handle, logged } = setup();
    await addVersion(db, 'coin-year', 62);
    await promote(db, 'coin-year', 62);
    const { status, body, headers } = await answer(await handle(post('models/coin-year/invocations', coinBody)));
    expect(status).toBe(200);
    expect(body).toEqual({ predictions: [1862] });
    expect(headers.get('loupe-model-version')).toBe('62');
    expect(headers.get('content-type')).toMatch(/application\/json/);
    expect(logged).toEqual([expect.objectContaining({ source: 'rest', version: 62, model: 'coin-year' })]);
  });

  it('serves a model registered under the earlier task name car-damage as image classification', async () => {
    const { db, handle, logged } = setup();
    await addVersion(db, 'car-damage', 4);
    await promote(db, 'car-damage', 4);
    const { status, body, headers } = await answer(await handle(post('models/car-damage/invocations', { inputs: [{ image_base64: b64(PNG) }] })));
    expect(status).toBe(200);
    expect(body.predictions).toEqual([expect.objectContaining({ label: expect.any(String), score: expect.any(Number) })]);
    expect(headers.get('loupe-model-version')).toBe('4');
    expect(logged).toEqual([expect.objectContaining({ model: 'car-damage', task: 'image-classification', version: 4 })]);
    const wrong = await answer(await handle(post('models/car-damage/invocations', { inputs: [{ text: 'scratched door' }] })));
    expect(wrong).toMatchObject({ status: 422, body: { error: { field: 'inputs[0].text', message: expect.stringMatching(/expected image_base64/) } } });
    const missing = await answer(await handle(post('models/car-damage/invocations', { inputs: [{}] })));
    expect(missing).toMatchObject({ status: 422, body: { error: { field: 'inputs[0].image_base64' } } });
  });

  it('answers classifiers with label, score and named probabilities, for any of the four formats', async () => {
    const { db, handle } = setup();
    await addVersion(db, 'sentiment', 1);
    await promote(db, 'sentiment', 1);
    for (const body of [
      { inputs: ['great stuff', 'awful'] },
      { instances: [{ text: 'great stuff' }, { text: 'awful' }] },
      { dataframe_records: [{ text: 'great stuff' }, { text: 'awful' }] },
      { dataframe_split: { columns: ['text'], data: [['great stuff'], ['awful']] } },
    ]) {
      const { status, body: answerBody } = await answer(await handle(post('models/sentiment/invocations', body)));
      expect(status).toBe(200);
      expect(answerBody).toEqual({
        predictions: [
          { label: 'positive', score: 0.8, probabilities: { negative: 0.1, neutral: 0.1, positive: 0.8 } },
          { label: 'negative', score: 0.8, probabilities: { negative: 0.8, neutral: 0.1, positive: 0.1 } },
        ],
      });
    }
  });

  it.each<[string, string, number, string, unknown, string | undefined]>([
    ['malformed JSON', 'coin-year', 400, 'BAD_REQUEST', '{"inputs": [', 'body'],
    ['a wrong schema', 'coin-year', 422, 'INVALID_PARAMETER_VALUE', { inputs: [{ front_image_base64: b64(PNG) }] }, 'inputs[0].back_image_base64'],
    ['invalid base64', 'coin-year', 422, 'INVALID_PARAMETER_VALUE', { inputs: [{ front_image_base64: '!!', back_image_base64: b64(PNG) }] }, 'inputs[0].front_image_base64'],
    ['bytes that are not an image', 'image-classification', 422, 'INVALID_PARAMETER_VALUE', { inputs: [{ image_base64: b64(new TextEncoder().encode('GIF')) }] }, 'inputs[0].image_base64'],
    ['an unknown model', 'unicorn', 404, 'RESOURCE_DOES_NOT_EXIST', coinBody, undefined],
    ['no production version', 'coin-year', 503, 'TEMPORARILY_UNAVAILABLE', coinBody, undefined],
  ])('answers %s (model %s) with %i', async (_, model, status, errorCode, body, field) => {
    const { handle, loads } = setup();
    const response = await answer(await handle(post(`models/${model}/invocations`, body)));
    expect(response).toMatchObject({ status, body: { error_code: errorCode, error: { code: expect.any(String), message: expect.any(String) } } });
    expect((response.body.error as { field?: string }).field).toBe(field);
    expect(response.body.message).toBe((response.body.error as { message: string }).message);
    expect(loads).toEqual([]);
    if (status === 503) expect(response.headers.get('retry-after')).toBe('30');
  });

  it('answers an image over the per-image limit with 413 naming it', async () => {
    const { handle } = setup({ maxImageBytes: 10 });
    const { status, body } = await answer(await handle(post('models/coin-year/invocations', coinBody)));
    expect(status).toBe(413);
    expect(body).toMatchObject({ error_code: 'REQUEST_LIMIT_EXCEEDED', error: { field: 'inputs[0].front_image_base64' } });
  });

  it('answers a body over the total limit with 413, from its declared length or its size', async () => {
    const { handle } = setup({ maxBodyBytes: 64 });
    const declared = await handle(post('models/coin-year/invocations', '{}', { 'content-length': '100000' }));
    expect(declared.status).toBe(413);
    const actual = await answer(await handle(post('models/coin-year/invocations', coinBody)));
    expect(actual).toMatchObject({ status: 413, body: { error: { field: 'body', code: 'payload_too_large' } } });
  });

  it('answers a predictor failure with 500 and its message', async () => {
    const db = makeDb();
    const sdk = new ServingSdk({
      db,
      predictors: async () => ({ task: 'text-classification', backend: 'cpu', predict: async () => Promise.reject(new Error('kernel missing')), dispose: async () => {} }),
    });
    const handle = createRestHandler({ sdk, limits: async () => DEFAULT_SERVING_LIMITS });
    await addVersion(db, 'sentiment', 1);
    await promote(db, 'sentiment', 1);
    const { status, body } = await answer(await handle(post('models/sentiment/invocations', { inputs: ['x'] })));
    expect(status).toBe(500);
    expect(body).toMatchObject({ error_code: 'INTERNAL_ERROR', error: { message: expect.stringContaining('kernel missing') } });
  });
});

describe('POST api/predict (sentiment contract)', () => {
  it('answers {"label","score","probabilities","latency_ms"}', async () => {
    const { db, handle, logged } = setup();
    await addVersion(db, 'sentiment', 4);
    await promote(db, 'sentiment', 4);
    const { status, body, headers } = await answer(await handle(post('predict', { text: 'Beautiful post, love it!!!' })));
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['label', 'latency_ms', 'probabilities', 'score']);
    expect(body).toMatchObject({ label: 'positive', score: 0.8, probabilities: { negative: 0.1, neutral: 0.1, positive: 0.8 }, latency_ms: expect.any(Number) });
    expect(headers.get('loupe-model-version')).toBe('4');
    expect(logged[0]).toMatchObject({ source: 'rest', input: { text: 'Beautiful post, love it!!!' } });
  });

  it('answers its errors: 400 malformed, 422 schema, 503 without a production version', async () => {
    const { handle } = setup();
    expect((await handle(post('predict', 'not json'))).status).toBe(400);
    await expect(answer(await handle(post('predict', { txt: 'a' })))).resolves.toMatchObject({ status: 422, body: { error: { field: 'text' } } });
    await expect(answer(await handle(post('predict', { text: 'a' })))).resolves.toMatchObject({ status: 503, body: { error: { code: 'no_production_version' } } });
  });
});

describe('a 2-class sentiment model', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    registerTaskPredictors();
  });

  it('serves its own two labels through POST api/predict, invocations and the SDK', async () => {
    const db = makeDb();
    // A real fastText model with the classes of a negative/positive dataset, registered and promoted.
    const trainable = createTrainable('text-classification', { architecture: 'fasttext', dim: 4, buckets: 64 }, { seed: 1, labels: ['negative', 'positive'] });
    const saved = await saveToBlobs(trainable.model);
    trainable.dispose();
    const registry = new ModelRegistry(db);
    await registry.register({ name: 'sentiment', ...saved, metrics: { val_accuracy: 0.8 }, lineage: { task: 'text-classification' } });
    await registry.promote({ name: 'sentiment', version: 1, evalDataVersion: 'reviews', evaluate: async () => ({ accuracy: 0.8, macroF1: 0.8 }) });
    const sdk = new ServingSdk({ db, predictors: loadPredictor });
    const handle = createRestHandler({ sdk, limits: async () => DEFAULT_SERVING_LIMITS });

    const { status, body } = await answer(await handle(post('predict', { text: 'the battery died after a day' })));
    expect(status).toBe(200);
    expect(['negative', 'positive']).toContain(body.label);
    const probabilities = body.probabilities as Record<string, number>;
    expect(Object.keys(probabilities)).toEqual(['negative', 'positive']);
    expect(probabilities.negative! + probabilities.positive!).toBeCloseTo(1, 5);
    expect(body.score).toBe(probabilities[body.label as string]);

    const invoked = await answer(await handle(post('models/sentiment/invocations', { inputs: ['great phone', 'awful phone'] })));
    const predictions = invoked.body.predictions as { label: string; probabilities: Record<string, number> }[];
    expect(predictions.map((p) => Object.keys(p.probabilities))).toEqual([
      ['negative', 'positive'],
      ['negative', 'positive'],
    ]);
    // The SDK (what the Predict page shows) names the same two classes.
    const result = await sdk.predict('sentiment', 'great phone');
    expect(result.labels).toEqual(['negative', 'positive']);
    expect(result.prediction).toMatchObject({ kind: 'classification', label: expect.stringMatching(/^(negative|positive)$/) });
    expect((result.prediction as { probabilities: number[] }).probabilities).toHaveLength(2);
  });
});
