/**
 * Drives predictions through the studio's real REST path — `fetch` in the page → service worker → studio
 * tab (REST host, SDK, batched inference log) → inference worker — and samples what must stay flat: the
 * tab's JS heap, the inference worker's tensors, the inference log's size. Shared by `npm run soak`
 * (scripts/soak/index.ts, reports) and the e2e tests tests/e2e/reliability-{rest,soak}.e2e.ts (assert).
 * No vitest here: the script runs it under tsx.
 */
import type { CDPSession, Page } from 'playwright-core';
import { sentimentSamples } from '../../tests/e2e/fixtures';
import { seedRows, waitForServiceWorker, type Studio } from '../../tests/e2e/harness';

export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;

/** A request the page sends: the sentiment contract (`api/predict`) or MLflow's (`api/models/sentiment/invocations`). */
export type SoakRoute = 'predict' | 'invocations';

/** What the page saw for a batch of requests. */
export interface BatchOutcome {
  sent: number;
  /** 200 with the contract's shape. */
  ok: number;
  byRoute: Record<SoakRoute, number>;
  /** Answers by HTTP status (0: the fetch itself failed). */
  statuses: Record<string, number>;
  /** The first few answers that were not 200 with the right shape. */
  bad: { route: SoakRoute; status: number; body: string }[];
  /** Client-side round trips, ms, sorted. */
  latencies: number[];
  seconds: number;
}

export interface SoakSample {
  /** Requests sent so far. */
  requests: number;
  seconds: number;
  /** Used JS heap of the studio tab after a garbage collection (CDP `Runtime.getHeapUsage`), MB. */
  heapMB: number;
  /** `tf.memory()` of the inference worker, from `GET api/metrics`. */
  numTensors: number;
  tensorKB: number;
  /** Rows in the inference log now. */
  logRows: number;
  /** Predictions ever logged (`loupe_predictions_total`, written with the rows). */
  logged: number;
  /** Requests per second over the last interval, and its client-side latency percentiles. */
  rate: number;
  p50: number;
  p95: number;
}

/**
 * Seeds the phrase dataset, trains a small fastText model on the Train page, registers it as
 * `sentiment` v1 and promotes it through the gate (the first version has no champion to beat).
 */
export async function prepareSentimentModel(studio: Studio, datasetId = 'soak-phrases'): Promise<void> {
  const { page } = studio;
  await studio.goto('train');
  const samples = sentimentSamples(datasetId);
  await seedRows(studio, {
    datasets: [{ id: datasetId, name: 'soak phrases', task: 'text-classification', preset: 'sentiment', createdAt: Date.now(), sampleCount: samples.length }],
    samples,
  });
  await studio.goto('train');
  await page.getByLabel('Task').selectOption('text-classification');
  await page.getByLabel('Text model').selectOption('fasttext');
  await page.getByLabel('Embedding width').fill('8');
  await page.getByLabel('Epochs', { exact: true }).fill('3');
  await page.getByLabel('Batch size').fill('16');
  await page.getByLabel('Learning rate').fill('0.05');
  await page.getByLabel('Run name').fill('soak model');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-state"]')?.textContent === 'completed', undefined, { timeout: 180_000 });

  await studio.goto('registry');
  const form = page.getByRole('form', { name: 'Register a run' });
  const option = form.locator('option', { hasText: 'soak model' });
  await form.getByLabel('Completed run').selectOption((await option.getAttribute('value'))!);
  await form.getByLabel('Model name').fill('sentiment');
  await form.getByRole('button', { name: 'Register version' }).click();
  await page.waitForURL(/#\/registry\/sentiment\/1$/);
  await page.locator('#version-title').filter({ hasText: 'v1' }).waitFor();

  await studio.goto('registry/sentiment');
  await page.getByRole('button', { name: 'Promote v1' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
  await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });
  await waitForServiceWorker(page);
}

/** Sets "Most rows kept" of the inference log's retention on the log page, as a user would. */
export async function setLogRetentionRows(studio: Studio, maxRows: number): Promise<void> {
  await studio.goto('predict/log');
  const input = studio.page.getByLabel('Most rows kept');
  await input.fill(String(maxRows));
  await input.dispatchEvent('change');
  await studio.page.waitForFunction(
    async (rows) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const row = await new Promise<{ value?: { maxRows?: number } } | undefined>((resolve) => {
        const request = db.transaction('settings').objectStore('settings').get('logRetention');
        request.onsuccess = () => resolve(request.result as { value?: { maxRows?: number } } | undefined);
        request.onerror = () => resolve(undefined);
      });
      db.close();
      return row?.value?.maxRows === rows;
    },
    maxRows,
    { polling: 100, timeout: 10_000 },
  );
}

/**
 * Sends `count` requests from the page, `concurrency` at a time (`concurrency >= count`: all in flight
 * at once), every `invocationsEvery`-th to the MLflow route, and checks each answer's status and shape.
 * Texts differ per request (`offset` + index), so every log row is a distinct prediction.
 */
export async function sendBatch(page: Page, count: number, options: { concurrency: number; invocationsEvery?: number; offset?: number }): Promise<BatchOutcome> {
  // Under tsx, esbuild's keepNames wraps the named arrow functions below in a `__name(…)` helper that
  // exists only in Node: give the page a no-op one (a string, so it is not transformed itself).
  await page.evaluate('globalThis.__name ??= (fn) => fn');
  return page.evaluate(
    async ({ count, concurrency, invocationsEvery, offset, labels }) => {
      const words = ['great', 'awful', 'okay', 'love', 'broken', 'listed', 'amazing', 'sad', 'tuesday', 'best'];
      const outcome = {
        sent: 0,
        ok: 0,
        byRoute: { predict: 0, invocations: 0 },
        statuses: {} as Record<string, number>,
        bad: [] as { route: 'predict' | 'invocations'; status: number; body: string }[],
        latencies: [] as number[],
        seconds: 0,
      };
      const isLabel = (value: unknown) => typeof value === 'string' && labels.includes(value);
      const isScore = (value: unknown) => typeof value === 'number' && value >= 0 && value <= 1;
      const shapeOk = (route: 'predict' | 'invocations', body: Record<string, unknown>): boolean => {
        if (route === 'predict') return isLabel(body.label) && isScore(body.score) && typeof body.latency_ms === 'number';
        const predictions = body.predictions as { label?: unknown; score?: unknown; probabilities?: Record<string, number> }[] | undefined;
        const p = predictions?.[0];
        if (!Array.isArray(predictions) || predictions.length !== 1 || !p || !isLabel(p.label) || !isScore(p.score)) return false;
        const probabilities = Object.entries(p.probabilities ?? {});
        return probabilities.length === labels.length && Math.abs(probabilities.reduce((sum, [, v]) => sum + v, 0) - 1) < 1e-3;
      };
      const one = async (i: number) => {
        const n = offset + i;
        const route = invocationsEvery > 0 && n % invocationsEvery === invocationsEvery - 1 ? 'invocations' : 'predict';
        const text = `request ${n}: ${words[n % words.length]} ${words[(n * 7 + 3) % words.length]} day`;
        const started = performance.now();
        let status = 0;
        let raw = '';
        try {
          const response = await fetch(new URL(route === 'predict' ? 'api/predict' : 'api/models/sentiment/invocations', document.baseURI), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(route === 'predict' ? { text } : { inputs: [{ text }] }),
          });
          status = response.status;
          raw = await response.text();
          const version = Number(response.headers.get('loupe-model-version'));
          const body = JSON.parse(raw) as Record<string, unknown>;
          if (status === 200 && Number.isInteger(version) && version > 0 && shapeOk(route, body)) {
            outcome.ok++;
            outcome.byRoute[route]++;
          } else if (outcome.bad.length < 5) outcome.bad.push({ route, status, body: raw.slice(0, 300) });
        } catch (error) {
          if (outcome.bad.length < 5) outcome.bad.push({ route, status, body: raw.slice(0, 300) || String(error) });
        }
        outcome.statuses[status] = (outcome.statuses[status] ?? 0) + 1;
        outcome.latencies.push(performance.now() - started);
      };
      const started = performance.now();
      let next = 0;
      const client = async () => {
        while (next < count) {
          const i = next++;
          outcome.sent++;
          await one(i);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, client));
      outcome.seconds = (performance.now() - started) / 1000;
      outcome.latencies.sort((a, b) => a - b);
      return outcome;
    },
    { count, concurrency: options.concurrency, invocationsEvery: options.invocationsEvery ?? 0, offset: options.offset ?? 0, labels: [...SENTIMENT_LABELS] as string[] },
  );
}

/** Rows in the inference log, counted in the page (no rows are read). */
export async function countLogRows(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('inferenceLog').objectStore('inferenceLog').count();
          request.onsuccess = () => {
            open.result.close();
            resolve(request.result);
          };
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

/** The backend of the newest inference log row (the one the inference worker predicted on). */
export async function servingBackend(page: Page): Promise<string | undefined> {
  return page.evaluate(
    () =>
      new Promise<string | undefined>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('inferenceLog').objectStore('inferenceLog').openCursor(null, 'prev');
          request.onsuccess = () => {
            open.result.close();
            resolve((request.result?.value as { backend?: string } | undefined)?.backend);
          };
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

/** `GET api/metrics` through the service worker, as Prometheus would scrape it. */
export async function scrapeMetrics(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const response = await fetch(new URL('api/metrics', document.baseURI));
    if (!response.ok) throw new Error(`api/metrics answered ${response.status}: ${await response.text()}`);
    return response.text();
  });
}

/** One sample's value of a metric family (summed over its label sets); undefined when absent. */
export function metricValue(exposition: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of exposition.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) total = (total ?? 0) + Number(match[1]);
  }
  return total;
}

const percentile = (sorted: readonly number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);

/** Samples the tab's heap (after a collection), the worker's tensors and the log. */
export async function takeSample(page: Page, cdp: CDPSession, requests: number, seconds: number, interval?: BatchOutcome): Promise<SoakSample> {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const exposition = await scrapeMetrics(page);
  const numTensors = metricValue(exposition, 'loupe_inference_worker_tensors');
  if (numTensors === undefined) throw new Error('api/metrics has no loupe_inference_worker_tensors: is a model loaded in the inference worker?');
  return {
    requests,
    seconds: Math.round(seconds * 10) / 10,
    heapMB: Math.round((heap.usedSize / 2 ** 20) * 10) / 10,
    numTensors,
    tensorKB: Math.round((metricValue(exposition, 'loupe_inference_worker_tensor_bytes') ?? 0) / 1024),
    logRows: await countLogRows(page),
    logged: metricValue(exposition, 'loupe_predictions_total') ?? 0,
    rate: interval ? Math.round(interval.sent / interval.seconds) : 0,
    p50: interval ? Math.round(percentile(interval.latencies, 0.5) * 10) / 10 : NaN,
    p95: interval ? Math.round(percentile(interval.latencies, 0.95) * 10) / 10 : NaN,
  };
}

export interface SoakOptions {
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** A sample after every this many requests. */
  sampleEvery: number;
  /** Every n-th request uses `api/models/sentiment/invocations` (0: none). */
  invocationsEvery: number;
  onSample?: (sample: SoakSample) => void;
}

export interface SoakResult {
  sent: number;
  ok: number;
  byRoute: Record<SoakRoute, number>;
  statuses: Record<string, number>;
  bad: BatchOutcome['bad'];
  seconds: number;
  /** Before the first request (after a warm-up request), then one per interval, and one more after the last answer. */
  samples: SoakSample[];
}

/**
 * Runs the soak: `requests` predictions in intervals of `sampleEvery`, a sample before and after each.
 * The studio must serve `sentiment` in production (see `prepareSentimentModel`).
 */
export async function runSoak(page: Page, options: SoakOptions): Promise<SoakResult> {
  const cdp = await page.context().newCDPSession(page);
  const result: SoakResult = { sent: 0, ok: 0, byRoute: { predict: 0, invocations: 0 }, statuses: {}, bad: [], seconds: 0, samples: [] };
  const record = (sample: SoakSample) => {
    result.samples.push(sample);
    options.onSample?.(sample);
  };
  try {
    // Warm-up: the first request loads the model into the inference worker.
    const warm = await sendBatch(page, 1, { concurrency: 1 });
    if (warm.ok !== 1) throw new Error(`the warm-up request failed: ${JSON.stringify(warm.bad)}`);
    const started = Date.now();
    record(await takeSample(page, cdp, 0, 0));
    while (result.sent < options.requests) {
      const count = Math.min(options.sampleEvery, options.requests - result.sent);
      const batch = await sendBatch(page, count, { concurrency: options.concurrency, invocationsEvery: options.invocationsEvery, offset: result.sent });
      result.sent += batch.sent;
      result.ok += batch.ok;
      for (const route of ['predict', 'invocations'] as const) result.byRoute[route] += batch.byRoute[route];
      for (const [status, n] of Object.entries(batch.statuses)) result.statuses[status] = (result.statuses[status] ?? 0) + n;
      result.bad.push(...batch.bad.slice(0, Math.max(0, 5 - result.bad.length)));
      record(await takeSample(page, cdp, result.sent, (Date.now() - started) / 1000, batch));
    }
    result.seconds = (Date.now() - started) / 1000;
    // Every answer waited for its log row (group commit): the last sample sees everything written, with no wait.
    record(await takeSample(page, cdp, result.sent, (Date.now() - started) / 1000));
  } finally {
    await cdp.detach();
  }
  return result;
}
