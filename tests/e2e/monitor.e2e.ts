import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentimentSamples } from './fixtures';
import { openGate, registerRun, seedPhrases, trainSentiment } from './flows';
import { keepNotifications, openStudio, waitForServiceWorker, type Studio } from './harness';

const DATASET = 'e2e-monitor-phrases';

/** Sends texts to `POST /api/predict` from the page: through the service worker to the studio tab. */
async function predictOverRest(studio: Studio, texts: string[]): Promise<number[]> {
  return studio.page.evaluate(async (list) => {
    const statuses: number[] = [];
    for (const text of list) {
      const response = await fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      statuses.push(response.status);
      await response.text();
    }
    return statuses;
  }, texts);
}

const count = (studio: Studio) => studio.page.getByTestId('monitor-count').textContent();
const points = (studio: Studio, chart: string) => studio.page.locator(`figure[data-chart="${chart}"]`).getAttribute('data-points');

describe('monitor', () => {
  let studio: Studio;
  // The evaluation split's texts: live traffic made of them looks exactly like the reference.
  const valTexts = sentimentSamples(DATASET).filter((s) => s.split === 'val').map((s) => s.text);

  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, DATASET);
  });
  afterAll(async () => studio?.close());

  it('shows live charts of real predictions, then fires a drift alert when the inputs shift', async () => {
    const { page } = studio;
    await trainSentiment(studio, { name: 'monitored run', epochs: 6, learningRate: 0.05 });
    await registerRun(page, 'monitored run', 1, 'sentiment');
    await studio.goto('registry/sentiment');
    await openGate(page, 1, DATASET, 'recorded');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor();

    await studio.goto('monitor/sentiment');
    await waitForServiceWorker(page);
    // The studio measures the production version's reference on its evaluation split by itself.
    await expect.poll(() => page.getByTestId('drift-level').textContent(), { timeout: 60_000, interval: 500 }).toBe('insufficient');
    await expect(count(studio)).resolves.toBe('0');

    const form = page.getByRole('form', { name: 'New alert rule' });
    await form.getByLabel('Rule preset').selectOption({ label: 'PSI > 0.2' });
    await form.getByLabel('Name').fill('InputDrift');
    await form.getByLabel('Metric').selectOption({ label: 'drift: largest PSI of input statistics' });
    await form.getByLabel('Window (min)').fill('15');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('table', { name: 'Alert rules of sentiment' }).locator('tr[data-rule="InputDrift"]').waitFor();

    // Traffic like the evaluation data: every val text twice.
    expect(await predictOverRest(studio, [...valTexts, ...valTexts])).toEqual(valTexts.map(() => 200).concat(valTexts.map(() => 200)));
    await expect.poll(() => count(studio), { timeout: 15_000 }).toBe(String(valTexts.length * 2));
    expect(Number(await points(studio, 'requests'))).toBeGreaterThan(0);
    expect(Number(await points(studio, 'latency'))).toBeGreaterThan(0);
    // The promotion of v1 is marked on the traffic chart's time axis.
    await expect(page.locator('figure[data-chart="requests"]').getAttribute('data-markers')).resolves.toBe('1');
    await expect.poll(() => page.getByTestId('drift-level').textContent(), { timeout: 15_000 }).toBe('stable');
    await studio.screenshot('monitor-live');

    // Shifted inputs: the same phrases, thirty times longer.
    const notices = await keepNotifications(page);
    const long = valTexts.map((t) => Array.from({ length: 30 }, () => t).join(' '));
    await predictOverRest(studio, [...long, ...long, ...long]);
    await expect.poll(() => count(studio), { timeout: 15_000 }).toBe(String(valTexts.length * 5));
    await expect.poll(() => page.getByTestId('drift-level').textContent(), { timeout: 15_000 }).toBe('significant');
    await expect(page.getByTestId('drift-verdict').textContent()).resolves.toMatch(/^Significant drift in text length \(PSI \d+\.\d\d\)/);

    // The rule fires on a monitoring tick (every 10 s; later on a busy machine): a firing alert row, a
    // notification, the count in the tabs.
    await page.getByRole('table', { name: 'Alerts of sentiment' }).locator('tr[data-state="firing"]').waitFor({ timeout: 90_000 });
    await expect.poll(notices).toContainEqual(expect.stringContaining('Alert firing — InputDrift on sentiment'));
    await expect(page.getByTestId('firing-count').textContent()).resolves.toBe('1 firing alert');
    await studio.screenshot('monitor-drift-alert');

    // The same figures for Prometheus, through the service worker.
    const exposition = await page.evaluate(async () => {
      const response = await fetch(new URL('api/metrics', document.baseURI));
      return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
    });
    expect(exposition.status).toBe(200);
    expect(exposition.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(exposition.text).toContain(`loupe_predictions_total{model="sentiment",version="1"} ${valTexts.length * 5}`);
    expect(exposition.text).toMatch(/loupe_alerts_firing\{model="sentiment",alertname="InputDrift",severity="warning"\} 1/);
    expect(exposition.text).toMatch(/loupe_drift_psi\{model="sentiment",feature="textLength"\} \d/);

    // Any chart exports as CSV.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export Predictions by version as CSV' }).click();
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile((await (await download).path())!, 'utf8');
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe('time,all,v1');
    expect(rows.slice(1).reduce((sum, row) => sum + Number(row.split(',')[1]), 0)).toBe(valTexts.length * 5);

    // The periodic evaluation, run now: production measured in the trainer worker joins "Accuracy over time".
    await page.getByLabel('Evaluation dataset').selectOption(DATASET);
    await page.getByRole('button', { name: 'Evaluate now' }).click();
    const evaluation = page.getByRole('table', { name: 'Evaluations of sentiment' }).locator('tbody tr').first();
    await evaluation.waitFor({ timeout: 60_000 });
    await expect(evaluation.textContent()).resolves.toMatch(/ · accuracy (1|0\.\d+) · /);
    await expect.poll(() => points(studio, 'accuracy')).toBe('1');

    await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
    await studio.screenshot('monitor-other-theme');
    expect(studio.errors).toEqual([]);
  });
});
