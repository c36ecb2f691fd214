import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGate, registerRun, seedPhrases, trainSentiment } from './flows';
import { openStudio, readTable, waitForServiceWorker, type Studio } from './harness';

interface Answer {
  status: number;
  version: number | null;
  label?: string;
}

/** The inference log's rows, as stored. */
const loggedRows = (studio: Studio) => readTable<{ version: number; source: string; model: string }>(studio.page, 'inferenceLog');

/**
 * Starts `clients` loops in the page that POST `api/predict` back to back until `window.stopStream()`,
 * each answer recorded with its status and the `Loupe-Model-Version` header.
 */
async function startStream(studio: Studio, clients: number): Promise<void> {
  await studio.page.evaluate((clients) => {
    const state = window as unknown as { answers: Answer[]; stopped: boolean; streaming: Promise<void> };
    state.answers = [];
    state.stopped = false;
    const texts = ['the service was great', 'honestly awful experience', 'this phone is okay', 'love this park'];
    const client = async (c: number) => {
      for (let i = 0; !state.stopped; i++) {
        const response = await fetch(new URL('api/predict', document.baseURI), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: texts[(c + i) % texts.length] }),
        });
        const body = (await response.json()) as { label?: string };
        const version = response.headers.get('Loupe-Model-Version');
        state.answers.push({ status: response.status, version: version === null ? null : Number(version), label: body.label });
      }
    };
    state.streaming = Promise.all(Array.from({ length: clients }, (_, c) => client(c))).then(() => undefined);
  }, clients);
}

async function stopStream(studio: Studio): Promise<Answer[]> {
  return studio.page.evaluate(async () => {
    const state = window as unknown as { answers: Answer[]; stopped: boolean; streaming: Promise<void> };
    state.stopped = true;
    await state.streaming;
    return state.answers;
  });
}

async function answerCount(studio: Studio): Promise<number> {
  return studio.page.evaluate(() => (window as unknown as { answers: unknown[] }).answers.length);
}

describe('serving a trained model in production', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, 'e2e-serve');
  });
  afterAll(async () => studio?.close());

  it('answers REST requests with the production version, logs each one, and moves to a promoted version without failing a request', async () => {
    const { page } = studio;
    await trainSentiment(studio, { name: 'first model', epochs: 1, learningRate: 0.05 });
    await trainSentiment(studio, { name: 'better model', epochs: 6, learningRate: 0.05 });
    await registerRun(page, 'first model', 1, 'sentiment');
    await registerRun(page, 'better model', 2, 'sentiment');

    await studio.goto('registry/sentiment');
    await openGate(page, 1, 'e2e-serve', 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });
    await waitForServiceWorker(page);

    // Version 1 serves: REST answers name it, and every answer is a log row with its version.
    await startStream(studio, 4);
    await expect.poll(() => answerCount(studio), { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
    const before = await stopStream(studio);
    expect(before.every((a) => a.status === 200 && a.version === 1 && ['negative', 'neutral', 'positive'].includes(a.label!))).toBe(true);
    await expect.poll(async () => (await loggedRows(studio)).filter((r) => r.source === 'rest').length, { timeout: 10_000 }).toBe(before.length);

    // Promote version 2 through the gate while four clients keep predicting.
    await startStream(studio, 4);
    await expect.poll(() => answerCount(studio), { timeout: 30_000 }).toBeGreaterThanOrEqual(before.length + 5);
    await openGate(page, 2, 'e2e-serve', 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: /Promoted: accuracy beats production v1/ }).waitFor({ timeout: 120_000 });
    const promotedAt = await answerCount(studio);
    await expect.poll(() => answerCount(studio), { timeout: 30_000 }).toBeGreaterThanOrEqual(promotedAt + 20);
    const during = await stopStream(studio);

    expect(during.filter((a) => a.status !== 200)).toEqual([]);
    const versions = during.map((a) => a.version);
    expect(versions).toContain(1);
    expect(versions.slice(-8)).toEqual(Array(8).fill(2)); // requests after the move name the new version
    await expect
      .poll(async () => (await loggedRows(studio)).filter((r) => r.source === 'rest').length, { timeout: 10_000 })
      .toBe(before.length + during.length);
    const logged = await loggedRows(studio);
    expect(new Set(logged.map((r) => `${r.model} v${r.version}`))).toEqual(new Set(['sentiment v1', 'sentiment v2']));

    // The log page shows them, newest first, with the version that answered.
    await studio.goto('predict/log');
    const rows = page.getByTestId('log-row');
    await rows.first().waitFor();
    await expect(rows.first().textContent()).resolves.toMatch(/sentiment.*v?2/);
    await studio.screenshot('serving-production-log');
    expect(studio.errors).toEqual([]);
  }, 420_000);
});
