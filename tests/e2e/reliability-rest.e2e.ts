import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLogRows, prepareSentimentModel, sendBatch } from '../../scripts/soak/driver';
import { openStudio, readTable, type Studio } from './harness';

/** Requests sent at once: the issue asks for 500; twice that keeps a margin. */
const BURST = 1000;

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; field?: string }; error_code?: string; label?: string } & Record<string, unknown>;
}

/** One request from the page through the service worker; `body` is sent as is when it is a string. */
async function post(studio: Studio, route: string, body: unknown): Promise<Answer> {
  return studio.page.evaluate(
    async ({ route, body }) => {
      const response = await fetch(new URL(`api/${route}`, document.baseURI), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Answer['body'] };
    },
    { route, body },
  );
}

/** All-time predictions of `model` in `GET api/metrics` (the Prometheus totals, from the rollups). */
async function predictionsTotal(page: Page, model: string): Promise<number> {
  const text = await page.evaluate(async () => (await fetch(new URL('api/metrics', document.baseURI))).text());
  return text
    .split('\n')
    .filter((line) => line.startsWith('loupe_predictions_total{') && line.includes(`model="${model}"`))
    .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
}

/**
 * Issue #13, REST: a burst of requests all in flight at once is answered in full and logged in full, and
 * hostile payloads get their 4xx naming the field while the studio keeps serving.
 */
describe('reliability: the REST API under load and bad payloads', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await openStudio();
    await prepareSentimentModel(studio, 'rel-rest');
    await studio.goto('predict/api');
  }, 300_000);
  afterAll(async () => studio?.close());

  it(`answers ${BURST} requests in flight at once, every one 200 with its shape, and logs every one`, async () => {
    const before = await countLogRows(studio.page);
    // 4/5 on api/predict and 1/5 on the MLflow route, all fired before the first answer arrives. Before the
    // fixes (settings read per request, a fixed 2 s acknowledgement window) 1,000 at once got 41–100% 503s.
    const burst = await sendBatch(studio.page, BURST, { concurrency: BURST, invocationsEvery: 5 });
    expect(burst.bad).toEqual([]);
    expect(burst).toMatchObject({ sent: BURST, ok: BURST, byRoute: { predict: BURST * 0.8, invocations: BURST * 0.2 }, statuses: { 200: BURST } });
    // Every answer waited for its row (group commit): all are stored the moment the last answer is in.
    expect(await countLogRows(studio.page)).toBe(before + BURST);
    const rows = await readTable<{ source: string; model: string; version: number; input: { text?: string } }>(studio.page, 'inferenceLog');
    const burstRows = rows.filter((row) => /^request \d+:/.test(row.input.text ?? ''));
    expect(burstRows).toHaveLength(BURST);
    expect(new Set(burstRows.map((row) => /^request (\d+):/.exec(row.input.text!)![1])).size).toBe(BURST);
    expect(burstRows.every((row) => row.source === 'rest' && row.model === 'sentiment' && row.version === 1)).toBe(true);
    console.info(`${BURST} in flight: answered in ${burst.seconds.toFixed(1)} s, p50 ${burst.latencies[BURST / 2]!.toFixed(0)} ms, max ${burst.latencies.at(-1)!.toFixed(0)} ms`);
  });

  it('answers malformed JSON and wrong types with 400/422 naming the field', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['truncated JSON', 'predict', '{"text": "great', 400, 'body'],
      ['a JSON string instead of an object', 'predict', '"great"', 422, 'body'],
      ['text as a number', 'predict', { text: 42 }, 422, 'text'],
      ['text as an array', 'models/sentiment/invocations', { inputs: [{ text: ['great'] }] }, 422, 'inputs[0].text'],
      ['inputs as an object of numbers', 'models/sentiment/invocations', { inputs: 3 }, 422, 'inputs'],
      ['params holding an object', 'models/sentiment/invocations', { inputs: ['great'], params: { top_k: { n: 1 } } }, 422, 'params.top_k'],
      ['an empty body', 'predict', '', 400, 'body'],
    ];
    for (const [name, route, body, status, field] of cases) {
      const answer = await post(studio, route, body);
      expect({ name, status: answer.status, field: answer.body.error?.field }).toEqual({ name, status, field });
      expect(answer.body.error!.message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it('answers an invalid base64 image with 422 naming the field', async () => {
    const answer = await post(studio, 'models/coin-year/invocations', { inputs: [{ front_image_base64: 'not*base64!', back_image_base64: 'iVBORw0KGgo=' }] });
    expect(answer).toMatchObject({ status: 422, body: { error_code: 'INVALID_PARAMETER_VALUE', error: { code: 'invalid_image', field: 'inputs[0].front_image_base64' } } });
    expect(answer.body.error!.message).toBe('inputs[0].front_image_base64: is not valid base64');
  });

  it('answers a body over the documented 64 MB limit with 413 from the service worker, even while a burst keeps the tab busy, and serves the next request', async () => {
    const { page } = studio;
    // 300 predictions in flight keep the studio tab busy; the oversized requests go out among them.
    const answers = await page.evaluate(async () => {
      // The bodies are made first: building 65 MiB in this tab mid-burst would stall the tab itself.
      const whole = new Blob([`{"text":"${'a'.repeat(65 * 1024 * 1024)}"}`]); // 68,157,451 bytes, well-formed
      const chunk = new TextEncoder().encode('a'.repeat(1024 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ === 65) controller.close();
          else controller.enqueue(chunk);
        },
      });
      const started = performance.now();
      const predict = (i: number) =>
        fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `busy ${i}: great day` }) }).then((r) => r.status);
      const refuse = async (body: BodyInit, streamed: boolean) => {
        const response = await fetch(new URL('api/predict', document.baseURI), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          ...(streamed ? { duplex: 'half' } : {}),
        } as RequestInit);
        return { status: response.status, body: (await response.json()) as Answer['body'], ms: performance.now() - started };
      };
      const burst = Array.from({ length: 300 }, (_, i) => predict(i));
      const refused = [refuse(whole, false), refuse(stream, true)] as const;
      const statuses = await Promise.all(burst);
      const burstMs = performance.now() - started;
      return { whole: await refused[0], streamed: await refused[1], burst: statuses, burstMs };
    });
    // Chromium hands a service worker no Content-Length for a page's request: it counts the bytes and stops at the limit.
    const refused = { status: 413, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', error: { code: 'payload_too_large', field: 'body', message: 'body: is more than 67108864 bytes (reading stopped there); the limit is 67108864' } } };
    expect(answers.whole).toMatchObject(refused);
    expect(answers.streamed).toMatchObject(refused);
    expect(answers.burst.filter((status) => status !== 200)).toEqual([]);
    console.info(`413 after ${answers.whole.ms.toFixed(0)} ms (whole body) and ${answers.streamed.ms.toFixed(0)} ms (stream); the 300 predictions answered in ${answers.burstMs.toFixed(0)} ms`);
    const next = await post(studio, 'predict', { text: 'the service was great' });
    expect(next.status).toBe(200);
    expect(['negative', 'neutral', 'positive']).toContain(next.body.label);
    await studio.screenshot('reliability-rest');
    // Chromium logs every deliberate 4xx as a console error; nothing else may appear.
    expect(studio.errors.filter((e) => !e.startsWith('Failed to load resource: the server responded with a status of'))).toEqual([]);
  });

  it('loses no answered prediction when the serving tab dies without unload events: every one is in the log and the totals after reopening', async () => {
    const { page } = studio;
    const totalBefore = await predictionsTotal(page, 'sentiment');
    // One prediction on the Predict page (the SDK in the tab)…
    await studio.goto('predict');
    const form = page.getByRole('form', { name: 'Predict with sentiment' });
    await form.getByLabel('Text').fill('durable ui: what a lovely day');
    await form.getByRole('button', { name: 'Predict' }).click();
    await page.getByTestId('prediction').waitFor();
    // …and 20 over REST, all answered 200; then the tab is killed at once: no pagehide, no visibilitychange.
    const statuses = await page.evaluate(() =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `durable rest ${i}: fine` }) }).then((r) => r.status),
        ),
      ),
    );
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
    const cdp = await studio.browser.context.newCDPSession(page);
    const crashed = page.waitForEvent('crash');
    void cdp.send('Page.crash').catch(() => {}); // the renderer dies before it could answer
    await crashed;

    // Reopened, the inference log page lists every answered prediction (the newest 50 rows are shown).
    const reopened = await studio.browser.context.newPage();
    await reopened.goto(`${studio.baseUrl}#/predict/log`);
    const durable = reopened.getByTestId('log-row').filter({ hasText: /durable (ui|rest \d+):/ });
    await expect.poll(() => durable.count(), { timeout: 30_000 }).toBe(21);
    const texts = await durable.locator('td.input span').allTextContents();
    expect(new Set(texts)).toEqual(new Set(['durable ui: what a lovely day', ...Array.from({ length: 20 }, (_, i) => `durable rest ${i}: fine`)]));
    await expect(durable.filter({ hasText: 'durable ui' }).locator('.badge').textContent()).resolves.toBe('ui');
    // The rollups follow the answers in their own transaction: the reopened studio counts the rows the killed
    // tab had not folded in, each once, so the Prometheus totals (and Monitor) have all 21.
    await expect.poll(() => predictionsTotal(reopened, 'sentiment'), { timeout: 30_000 }).toBe(totalBefore + 21);
    await reopened.close();
  });
});
