import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSentimentModel, runSoak, setLogRetentionRows, type SoakSample } from '../../scripts/soak/driver';
import { openStudio, type Studio } from './harness';

const REQUESTS = 3000;
const MAX_ROWS = 500;
/** The logger prunes once max(batch of 50, 10% of maxRows) rows were written; a flush can add one more batch. */
const ROW_BOUND = MAX_ROWS + Math.max(50, MAX_ROWS * 0.1) + 100;

/**
 * Issue #13, the short soak (`npm run soak` runs the long one): predictions stream through the real REST
 * path with a small log retention, and what must stay flat is sampled every 250 requests.
 */
describe('reliability: a short soak of the REST path with retention on', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await openStudio();
    await prepareSentimentModel(studio, 'rel-soak');
    await setLogRetentionRows(studio, MAX_ROWS);
    await studio.goto('predict/api');
  }, 300_000);
  afterAll(async () => studio?.close());

  it(`answers ${REQUESTS} predictions, keeps the log within its retention, and leaks no tensors`, async () => {
    const samples: SoakSample[] = [];
    const result = await runSoak(studio.page, { requests: REQUESTS, concurrency: 8, sampleEvery: 250, invocationsEvery: 5, onSample: (s) => samples.push(s) });
    console.table(samples);

    expect(result.bad).toEqual([]);
    expect(result).toMatchObject({ sent: REQUESTS, ok: REQUESTS, statuses: { 200: REQUESTS } });
    const [start, ...rest] = samples;
    const end = samples.at(-1)!;
    // Every answered prediction was logged (the counter is written with the rows; +1: the warm-up request).
    expect(end.logged).toBe(REQUESTS + 1);
    // Retention deleted: the log never held much more than its limit, and ends holding the newest rows.
    expect(Math.max(...samples.map((s) => s.logRows))).toBeLessThanOrEqual(ROW_BOUND);
    expect(end.logRows).toBeGreaterThanOrEqual(MAX_ROWS);
    // The model's tensors are all the worker holds: the count after warm-up is the count at the end, and a
    // sample above it is a prediction still being cleaned up (seen once in a CI run: 6 for 3), never two in a
    // row as a leak would be.
    expect(end.numTensors).toBe(start!.numTensors);
    const above = rest.map((s) => s.numTensors > start!.numTensors);
    expect(above.some((a, i) => a && above[i + 1])).toBe(false);
    // The tab's heap (after a collection) may wobble, but not grow with the requests served: under 200 bytes
    // a request after the first interval (a comlink call that kept its result leaked ~430 bytes a request).
    const warm = samples[1]!;
    expect(((end.heapMB - warm.heapMB) * 2 ** 20) / (end.requests - warm.requests)).toBeLessThan(200);
    await studio.goto('predict/log');
    await studio.page.getByTestId('log-row').first().waitFor();
    await studio.screenshot('reliability-soak-log');
    expect(studio.errors).toEqual([]);
  }, 600_000);
});
