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
/** The least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return sxy / sxx;
}

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
    const end = samples.at(-1)!;
    // Every answered prediction was logged (the counter is written with the rows; +1: the warm-up request).
    expect(end.logged).toBe(REQUESTS + 1);
    // Retention deleted: the log never held much more than its limit, and ends holding the newest rows.
    expect(Math.max(...samples.map((s) => s.logRows))).toBeLessThanOrEqual(ROW_BOUND);
    expect(end.logRows).toBeGreaterThanOrEqual(MAX_ROWS);
    // The model's tensors are all the worker holds: the fewest any sample saw is the count at the end, and
    // a sample above it is a prediction still being cleaned up (seen in CI runs: 6 for 3, the first sample
    // included, taken as the warm-up's answer came back), never two in a row as a leak would be.
    const held = Math.min(...samples.map((s) => s.numTensors));
    expect(end.numTensors).toBe(held);
    const above = samples.map((s) => s.numTensors > held);
    expect(above.some((a, i) => a && above[i + 1])).toBe(false);
    // The tab's heap (after a collection) may wobble, but not grow with the requests served: its trend over
    // the samples after warm-up (the first 1,000 requests fill caches) is under 200 bytes a request. Leaks
    // seen here grew 430 (a comlink call that kept its result) and 800 bytes a request (Dexie live queries
    // keeping one key range per logged row). A least-squares slope over 9 samples, not the difference of
    // two, so heap figures rounded to 0.1 MB do not decide it.
    const settled = samples.filter((s) => s.requests >= 1000);
    expect(settled.length).toBeGreaterThanOrEqual(5);
    expect(slope(settled.map((s) => [s.requests, s.heapMB * 2 ** 20]))).toBeLessThan(200);
    await studio.goto('predict/log');
    await studio.page.getByTestId('log-row').first().waitFor();
    await studio.screenshot('reliability-soak-log');
    expect(studio.errors).toEqual([]);
  }, 600_000);
});
