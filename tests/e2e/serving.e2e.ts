import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveToBlobs } from '../../models/io';
import { crc32, encodePng } from '../../src/lib/datasets/png';
import { smallCnnTrainable } from '../../src/lib/tasks/image-classification/model';
import { TASKS } from '../../src/lib/tasks/registry';
import { openStudio, readTable, seedRows, waitForServiceWorker, type Studio } from './harness';

/** A real 1×1 PNG. */
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; field?: string }; error_code?: string; message?: string } & Record<string, unknown>;
  headers: Record<string, string>;
}

/** `fetch` from the page: the request goes through the service worker to the studio tab. */
async function call(studio: Studio, method: string, route: string, body?: unknown): Promise<Answer> {
  return studio.page.evaluate(
    async ({ method, route, body }) => {
      const response = await fetch(new URL(`api/${route}`, document.baseURI), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { raw: text };
      }
      return { status: response.status, body: parsed as Answer['body'], headers: Object.fromEntries(response.headers) };
    },
    { method, route, body },
  );
}

const coin = (front = PNG_B64, back = PNG_B64) => ({ inputs: [{ front_image_base64: front, back_image_base64: back }] });

describe('serving: the same-origin REST API', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('predict');
    await waitForServiceWorker(studio.page);
  });
  afterAll(async () => studio?.close());

  it('answers ping, version and the model list through the service worker', async () => {
    await expect(call(studio, 'GET', 'ping')).resolves.toMatchObject({ status: 200, body: { status: 'ok' } });
    await expect(call(studio, 'GET', 'version')).resolves.toMatchObject({ status: 200, body: { version: expect.any(String) } });
    const models = await call(studio, 'GET', 'models');
    expect(models.status).toBe(200);
    const coinYear = (models.body.models as { name: string; production_version: number | null; signature: unknown }[]).find((m) => m.name === 'coin-year');
    expect(coinYear).toMatchObject({ production_version: null, signature: { inputs: [{ name: 'front_image_base64' }, { name: 'back_image_base64' }] } });
  });

  it('answers bad requests with their status and a JSON error naming the field', async () => {
    const cases: [string, string, unknown, number, string, string | undefined][] = [
      ['malformed JSON', 'models/coin-year/invocations', '{"inputs": [', 400, 'BAD_REQUEST', 'body'],
      ['a missing side', 'models/coin-year/invocations', { inputs: [{ front_image_base64: PNG_B64 }] }, 422, 'INVALID_PARAMETER_VALUE', 'inputs[0].back_image_base64'],
      ['two formats', 'models/coin-year/invocations', { ...coin(), instances: [] }, 422, 'INVALID_PARAMETER_VALUE', 'instances'],
      ['invalid base64', 'models/coin-year/invocations', coin('@@not base64@@'), 422, 'INVALID_PARAMETER_VALUE', 'inputs[0].front_image_base64'],
      ['not an image', 'models/car-damage/invocations', { dataframe_split: { columns: ['image_base64'], data: [[btoa('%PDF-1.7 not an image')]] } }, 422, 'INVALID_PARAMETER_VALUE', 'dataframe_split.data[0][0]'],
      ['an unknown model', 'models/unicorn/invocations', coin(), 404, 'RESOURCE_DOES_NOT_EXIST', undefined],
      ['no production version', 'models/coin-year/invocations', coin(), 503, 'TEMPORARILY_UNAVAILABLE', undefined],
      ['sentiment without a production version', 'predict', { text: 'Beautiful post!!!' }, 503, 'TEMPORARILY_UNAVAILABLE', undefined],
      ['a sentiment body without text', 'predict', { tweet: 'x' }, 422, 'INVALID_PARAMETER_VALUE', 'text'],
    ];
    for (const [name, route, body, status, errorCode, field] of cases) {
      const answer = await call(studio, 'POST', route, body);
      expect({ name, status: answer.status, errorCode: answer.body.error_code, field: answer.body.error?.field }).toEqual({ name, status, errorCode, field });
      expect(answer.headers['content-type']).toMatch(/application\/json/);
      expect(answer.body.error!.message.length).toBeGreaterThan(10);
    }
    await expect(call(studio, 'GET', 'models/coin-year/invocations')).resolves.toMatchObject({ status: 405 });
    await expect(call(studio, 'GET', 'no/such/endpoint')).resolves.toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
  });

  it('applies the size limits set in the page: 413 per image and per request', async () => {
    const { page } = studio;
    await studio.goto('predict/api');
    await page.getByLabel('Largest image in MB').fill('0.1');
    await page.getByLabel('Largest image in MB').dispatchEvent('change');
    await page.getByLabel('Largest request in MB').fill('1');
    await page.getByLabel('Largest request in MB').dispatchEvent('change');
    await page.waitForTimeout(200);
    const big = await page.evaluate(() => {
      const bytes = new Uint8Array(150_000);
      bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(binary);
    });
    const image = await call(studio, 'POST', 'models/coin-year/invocations', coin(PNG_B64, big));
    expect(image).toMatchObject({ status: 413, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', error: { field: 'inputs[0].back_image_base64' } } });
    const body = await call(studio, 'POST', 'models/coin-year/invocations', { inputs: Array.from({ length: 10 }, () => coin(PNG_B64, big).inputs[0]) });
    expect(body).toMatchObject({ status: 413, body: { error: { field: 'body' } } });
    await page.getByLabel('Largest image in MB').fill('10');
    await page.getByLabel('Largest image in MB').dispatchEvent('change');
    await page.getByLabel('Largest request in MB').fill('64');
    await page.getByLabel('Largest request in MB').dispatchEvent('change');
    await studio.screenshot('predict-rest-api');
  });

  it('answers 503 "no studio tab" quickly when no tab serves, and serves again when turned back on', async () => {
    const { page } = studio;
    await studio.goto('predict/api');
    const toggle = page.getByLabel("Answer REST requests from this browser's studio tabs");
    await toggle.uncheck();
    await expect.poll(() => page.getByTestId('rest-state').textContent()).toBe('off');
    const started = Date.now();
    const answer = await call(studio, 'GET', 'ping');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer).toMatchObject({ status: 503, body: { error: { code: 'no_studio_tab' }, error_code: 'TEMPORARILY_UNAVAILABLE' } });
    expect(answer.body.error!.message).toMatch(/No studio tab is open to serve predictions; open Loupe in a tab/);
    await toggle.check();
    await expect.poll(() => page.getByTestId('rest-state').textContent()).toBe('serving');
    await expect(call(studio, 'GET', 'ping')).resolves.toMatchObject({ status: 200 });
  });

  it('routes a production version through the page, the SDK and the inference worker', async () => {
    // A registered version of a task whose predictor the task plug-in does not provide yet: the request
    // travels the whole production path and comes back as a clear error, not a hang.
    await seedRows(studio, {
      modelVersions: [{ id: 'car-damage-v1', name: 'car-damage', version: 1, status: 'production', createdAt: Date.now(), metrics: {} }],
      aliases: [{ name: 'car-damage', alias: 'production', version: 1, updatedAt: Date.now() }],
    });
    await studio.goto('predict');
    await waitForServiceWorker(studio.page);
    const answer = await call(studio, 'POST', 'models/car-damage/invocations', { inputs: [{ image_base64: PNG_B64 }] });
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ error_code: 'INTERNAL_ERROR', error: { code: 'prediction_failed' } });
    expect(answer.body.error!.message).toMatch(/car-damage/);
    await studio.page.getByRole('heading', { name: /car-damage/ }).waitFor();
    await studio.page.getByRole('alert').filter({ hasText: 'could not be loaded' }).waitFor();

    // Batch predict from files: every photo gets its row, failures included, and the CSV downloads.
    const png = Buffer.from(PNG_B64, 'base64');
    await studio.page.getByLabel('Images for batch prediction').setInputFiles([
      { name: 'a.png', mimeType: 'image/png', buffer: png },
      { name: 'b.png', mimeType: 'image/png', buffer: png },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('x') },
    ]);
    await expect.poll(() => studio.page.getByTestId('batch-count').textContent()).toBe('2 photos ready');
    await studio.page.getByRole('button', { name: 'Predict all' }).click();
    await expect.poll(() => studio.page.getByTestId('batch-summary').textContent()).toBe('0 predicted, 2 failed');
    const download = studio.page.waitForEvent('download');
    await studio.page.getByRole('button', { name: 'Download CSV' }).click();
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile((await (await download).path())!, 'utf8');
    expect(csv.trim().split('\n').map((line) => line.split(',')[0])).toEqual(['item', 'a.png', 'b.png']);
    await studio.screenshot('predict-car-damage');
    // Chromium reports every deliberate 4xx/5xx answer above as a console error; nothing else may appear.
    expect(studio.errors.filter((e) => !e.startsWith('Failed to load resource: the server responded with a status of'))).toEqual([]);
  });
});

describe('serving: the inference log', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('predict/log');
    const now = Date.now();
    const rows = Array.from({ length: 130 }, (_, i) => ({
      ts: now - i * 60_000,
      model: i % 2 ? 'sentiment' : 'coin-year',
      version: i < 60 ? 2 : 1,
      task: i % 2 ? 'text-classification' : 'coin-year',
      source: i % 3 === 0 ? 'rest' : 'ui',
      input: i % 2 ? { text: `tweet number ${i}` } : { hash: `${'ab'.repeat(32)}+${'cd'.repeat(32)}`, bytes: 40_000 },
      output: i % 2 ? { kind: 'classification', label: 'positive', index: 2, score: 0.91, probabilities: [0.04, 0.05, 0.91] } : { kind: 'regression', value: 1850 + i / 10 },
      labels: i % 2 ? ['negative', 'neutral', 'positive'] : undefined,
      score: i % 2 ? 0.91 : undefined,
      latencyMs: 10 + (i % 7),
      batchSize: 1,
      backend: 'wasm',
    }));
    await seedRows(studio, { inferenceLog: rows });
  });
  afterAll(async () => studio?.close());

  it('filters, pages by keyset, takes feedback and exports', async () => {
    const { page } = studio;
    const rows = page.getByTestId('log-row');
    await rows.first().waitFor();
    await expect.poll(() => rows.count()).toBe(50);
    await studio.screenshot('predict-log');

    await page.getByLabel('Filter by model').selectOption('sentiment');
    await page.getByLabel('Filter by source').selectOption('rest');
    await expect.poll(() => rows.count()).toBe(22); // odd i with i % 3 === 0 among 0…129
    await page.getByLabel('Filter by source').selectOption('');
    await expect.poll(() => rows.count()).toBe(50);
    const firstPage = await rows.first().textContent();
    await page.getByRole('button', { name: 'Older →' }).click();
    await expect.poll(() => page.getByTestId('log-page').textContent()).toBe('Page 2');
    await expect.poll(() => rows.count()).toBe(15);
    expect(await rows.first().textContent()).not.toBe(firstPage);
    await page.getByRole('button', { name: '← Newer' }).click();
    await expect.poll(() => rows.first().textContent()).toBe(firstPage);

    // Feedback on the newest sentiment prediction.
    const select = rows.first().locator('select');
    await select.selectOption('negative');
    await rows.first().getByText('✓').waitFor();
    const stored = (await readTable<{ feedback?: string }>(page, 'inferenceLog')).filter((r) => r.feedback).map((r) => r.feedback);
    expect(stored).toEqual(['negative']);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^loupe-log-sentiment-.*\.csv$/);
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile((await file.path())!, 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(/^id,time,model,version,source/);
    expect(lines).toHaveLength(66);
    expect(csv).toContain('negative');
    await studio.screenshot('predict-log-feedback');
    expect(studio.errors).toEqual([]);
  });
});

/** A 16 × 16 RGB PNG with a gradient. */
function gradientPng(): Uint8Array {
  const data = new Uint8Array(16 * 16 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 5) % 256;
  return encodePng({ width: 16, height: 16, channels: 3, data });
}

/** The PNG with whole, checksummed chunks around compressed data no inflater accepts (a reserved deflate block type). */
function undecodablePng(png: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(png);
  const view = new DataView(bytes.buffer);
  const idat = Buffer.from(bytes).indexOf('IDAT') - 4;
  const length = view.getUint32(idat);
  bytes[idat + 8 + 2] = 0x07; // after the 2-byte zlib header: BFINAL 1, BTYPE 11 (reserved)
  view.setUint32(idat + 8 + length, crc32(bytes, idat + 4, idat + 8 + length));
  return bytes;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** `loupe_prediction_errors_total` and `loupe_predictions_total` of a model, from `GET api/metrics` (0 when absent). */
async function counters(studio: Studio, model: string): Promise<{ errors: number; predictions: number }> {
  const text = await studio.page.evaluate(async () => (await fetch(new URL('api/metrics', document.baseURI))).text());
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && line.includes(`model="${model}"`))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
  return { errors: sum('loupe_prediction_errors_total'), predictions: sum('loupe_predictions_total') };
}

/**
 * Issue #25: an image that does not decode — cut short (its magic bytes still pass) or whole but with
 * pixels no decoder accepts — is the client's error: 422 invalid_image naming the field as written,
 * never a 500, never a model error; the Predict form refuses it where it was picked, naming the side.
 */
describe('serving: images that do not decode', () => {
  let studio: Studio;
  const png = gradientPng();
  /** The first half of the PNG's base64, as the issue sent it (cut on a 4-character boundary, so it is valid base64). */
  const half = b64(png).slice(0, Math.floor(b64(png).length / 8) * 4);

  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('predict');
    // A small image classifier in production (real weights, served by the inference worker), and a coin
    // model (no weights: its form still shows both sides).
    await tf.setBackend('cpu');
    const trainable = smallCnnTrainable(TASKS['image-classification'], { labels: ['dent', 'scratch'], inputSize: 16, channels: 3, filters: [4], dense: 8 });
    const saved = await saveToBlobs(trainable.model);
    trainable.dispose();
    const shards = await Promise.all(saved.shards.map(async (shard) => b64(new Uint8Array(await shard.arrayBuffer()))));
    await studio.page.evaluate(
      async ({ modelJson, shards }) => {
        const blob = (text: string) => new Blob([Uint8Array.from(atob(text), (c) => c.charCodeAt(0))]);
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open('loupe');
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        await new Promise<void>((resolve, reject) => {
          const tx = db.transaction(['modelVersions', 'aliases'], 'readwrite');
          const now = Date.now();
          tx.objectStore('modelVersions').put({ id: 'shapes@1', name: 'shapes', version: 1, status: 'production', createdAt: now, metrics: {}, tags: { task: 'image-classification' }, modelJson, shards: shards.map(blob) });
          tx.objectStore('modelVersions').put({ id: 'coins@1', name: 'coins', version: 1, status: 'production', createdAt: now, metrics: {}, tags: { task: 'coin-year' } });
          tx.objectStore('aliases').put({ name: 'shapes', alias: 'production', version: 1, updatedAt: now });
          tx.objectStore('aliases').put({ name: 'coins', alias: 'production', version: 1, updatedAt: now });
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
        db.close();
      },
      { modelJson: saved.modelJson, shards },
    );
    await studio.page.reload();
    await studio.page.locator('main h1').waitFor();
    await waitForServiceWorker(studio.page);
  }, 120_000);
  afterAll(async () => studio?.close());

  it('answers 422 invalid_image naming the field as the client wrote it, and counts no model error', async () => {
    const ok = await call(studio, 'POST', 'models/shapes/invocations', { inputs: [{ image_base64: b64(png) }] });
    expect(ok).toMatchObject({ status: 200, body: { predictions: [{ label: expect.stringMatching(/^(dent|scratch)$/) }] } });
    await expect.poll(async () => (await counters(studio, 'shapes')).predictions, { timeout: 10_000 }).toBe(1);
    const before = await counters(studio, 'shapes');

    const cases: [string, string, unknown, string, RegExp][] = [
      ['the first half of a PNG', 'models/shapes/invocations', { inputs: [{ image_base64: half }] }, 'inputs[0].image_base64', /: is not a whole PNG image: it is truncated: /],
      ['a cut back side, as records', 'models/coins/invocations', coin(b64(png), half), 'inputs[0].back_image_base64', /: is not a whole PNG image: /],
      ['a cut back side, as dataframe_split', 'models/coins/invocations', { dataframe_split: { columns: ['front_image_base64', 'back_image_base64'], data: [[b64(png), half]] } }, 'dataframe_split.data[0][1]', /: is not a whole PNG image: /],
      // Whole chunks: only the decoder in the inference worker finds the damage; its error names the field all the same.
      ['pixels no decoder accepts', 'models/shapes/invocations', { dataframe_split: { columns: ['image_base64'], data: [[b64(png)], [b64(undecodablePng(png))]] } }, 'dataframe_split.data[1][0]', /: could not be decoded as an image \(.+\)$/],
    ];
    for (const [name, route, body, field, message] of cases) {
      const answer = await call(studio, 'POST', route, body);
      expect({ name, status: answer.status, errorCode: answer.body.error_code, code: answer.body.error?.code, field: answer.body.error?.field }).toEqual({
        name,
        status: 422,
        errorCode: 'INVALID_PARAMETER_VALUE',
        code: 'invalid_image',
        field,
      });
      expect(answer.body.error!.message.startsWith(`${field}: `)).toBe(true);
      expect(answer.body.error!.message).toMatch(message);
    }

    // One more good prediction: once it is counted, anything recorded before it is counted too.
    await expect(call(studio, 'POST', 'models/shapes/invocations', { inputs: [{ image_base64: b64(png) }] })).resolves.toMatchObject({ status: 200 });
    await expect.poll(async () => (await counters(studio, 'shapes')).predictions, { timeout: 10_000 }).toBe(before.predictions + 1);
    expect((await counters(studio, 'shapes')).errors).toBe(before.errors);
    expect(before.errors).toBe(0);
  });

  it('the Predict form refuses a photo that does not decode, naming the side, and keeps no broken preview', async () => {
    const { page } = studio;
    await studio.goto('predict');
    await page.getByRole('radio', { name: /coins/ }).check();
    const back = page.locator('input[type="file"][aria-label="Back (reverse)"]');
    await back.setInputFiles({ name: 'half.png', mimeType: 'image/png', buffer: Buffer.from(half, 'base64') });
    const refusal = page.getByRole('alert').filter({ hasText: 'half.png' });
    await expect(refusal.textContent()).resolves.toMatch(/^Back \(reverse\): "half\.png" is not a whole PNG image: it is truncated: .*Choose another photo\.$/);
    expect(await page.getByRole('img', { name: 'Back (reverse) preview' }).count()).toBe(0);
    await back.setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from(undecodablePng(png)) });
    await page.getByRole('alert').filter({ hasText: /"broken\.png" could not be decoded as an image/ }).waitFor();
    expect(await page.getByRole('img', { name: 'Back (reverse) preview' }).count()).toBe(0);
    await studio.screenshot('predict-refused-photo');
    await back.setInputFiles({ name: 'whole.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    await page.getByRole('img', { name: 'Back (reverse) preview' }).waitFor();
    expect(await page.getByRole('alert').filter({ hasText: /broken\.png|half\.png/ }).count()).toBe(0);
    expect(studio.errors.filter((e) => !e.startsWith('Failed to load resource: the server responded with a status of'))).toEqual([]);
  });
});
