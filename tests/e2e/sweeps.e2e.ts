import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPhrases } from './flows';
import { openStudio, readTable, type Studio } from './harness';

/** A 4-trial grid (learning rate × width) on the phrase set, 2 epochs each, with hyperband. */
const GRID = `name: e2e grid
task: sentiment
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  learningRate: {values: [0.005, 0.05]}
  dim: {values: [4, 8]}
  buckets: {value: 4096}
  epochs: {value: EPOCHS}
  batchSize: {value: 16}
early_terminate: {type: hyperband, min_iter: 1, eta: 2}
`;

/** Fills the editor and starts the sweep; resolves with its id once its page opens. */
async function startSweep(studio: Studio, definition: string): Promise<string> {
  const { page } = studio;
  await studio.goto('sweeps/new');
  await page.getByLabel('Task').selectOption('text-classification');
  await page.getByRole('textbox', { name: /^Definition/ }).fill(definition);
  await page.getByText('Valid: grid search, 4 trials').waitFor();
  await page.getByRole('button', { name: 'Start sweep' }).click();
  await page.waitForURL(/#\/sweeps\/[0-9a-f-]{36}$/);
  return decodeURIComponent(page.url().split('/').at(-1)!);
}

async function waitForStatus(page: Page, status: string, timeout = 180_000): Promise<void> {
  await page.waitForFunction((s) => document.querySelector('[data-testid="sweep-status"]')?.textContent === s, status, { timeout });
}

/** Runs grouped under a sweep, read from IndexedDB. */
async function trialRuns(page: Page, sweepId: string): Promise<{ id: string; name: string; status: string }[]> {
  const runs = await readTable<{ id: string; name: string; status: string; parentId?: string }>(page, 'runs');
  return runs.filter((r) => r.parentId === sweepId).map(({ id, name, status }) => ({ id, name, status }));
}

describe('sweeps', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('sweeps');
    await seedPhrases(studio, 'e2e-sweep', 'phrases for sweeps');
  });
  afterAll(async () => studio?.close());

  it('names the offending key of a bad definition before anything runs', async () => {
    const { page } = studio;
    await expect.poll(() => page.getByRole('heading', { name: 'No sweeps yet' }).count()).toBe(1);
    await studio.screenshot('sweeps-empty');
    await studio.goto('sweeps/new');
    await page.getByRole('textbox', { name: /^Definition/ }).fill(GRID.replace('EPOCHS', '2').replace('learningRate', 'learning_rate'));
    const problems = page.getByRole('list', { name: 'Problems in the definition' });
    await expect(problems.textContent()).resolves.toMatch(/parameters\.learning_rate: not a training setting of text-classification \(did you mean learningRate\?\)/);
    await expect.poll(() => page.getByRole('button', { name: 'Start sweep' }).isDisabled()).toBe(true);
    // The editor converts between YAML and JSON.
    await page.getByRole('textbox', { name: /^Definition/ }).fill(GRID.replace('EPOCHS', '2'));
    await page.getByRole('button', { name: 'JSON' }).click();
    await expect(page.getByRole('textbox', { name: /^Definition/ }).inputValue()).resolves.toMatch(/^\{\n {2}"name": "e2e grid"/);
    await studio.screenshot('sweeps-editor');
  });

  it('runs a 4-trial sweep to the end, charts it, and registers the best through the promotion gate', async () => {
    const { page } = studio;
    const sweepId = await startSweep(studio, GRID.replace('EPOCHS', '2'));
    await waitForStatus(page, 'completed');
    await expect(page.getByTestId('sweep-progress').textContent()).resolves.toBe('4 of 4 trials finished');

    const chart = page.getByRole('img', { name: /^Trials of e2e grid: 4 trials across dim, learningRate, val_accuracy$/ });
    await expect.poll(() => chart.locator('path.line').count()).toBe(4);
    await expect.poll(() => chart.locator('path.line.best').count()).toBe(1);

    const table = page.getByRole('table', { name: 'Trials' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(4);
    const metrics = async () => (await table.locator('td.metric').allTextContents()).map(Number);
    const best = await metrics();
    expect(best).toEqual([...best].sort((a, b) => b - a)); // best first
    await table.getByRole('button', { name: /val_accuracy/ }).click();
    const ascending = await metrics();
    expect(ascending).toEqual([...best].reverse());
    await expect(table.locator('tbody tr.best td.metric').textContent()).resolves.toBe(String(best[0]));
    expect(best[0]).toBeGreaterThan(0.6); // chance is 1/3

    const runs = await trialRuns(page, sweepId);
    expect(runs.map((r) => r.name).sort()).toEqual(['e2e grid · trial 1', 'e2e grid · trial 2', 'e2e grid · trial 3', 'e2e grid · trial 4']);

    await page.getByLabel('Model name').fill('sweep-sentiment');
    await page.getByRole('button', { name: 'Register best' }).click();
    const outcome = page.locator('[data-outcome]');
    await outcome.waitFor({ timeout: 120_000 });
    await expect(outcome.getAttribute('data-outcome')).resolves.toBe('promoted');
    await expect(outcome.textContent()).resolves.toMatch(/Promoted: sweep-sentiment v1.*no production version yet/s);
    await studio.screenshot('sweeps-detail');
    await page.getByRole('button', { name: /switch to dark theme/i }).click();
    await studio.screenshot('sweeps-detail-dark');
    await page.getByRole('button', { name: /switch to light theme/i }).click();

    await outcome.getByRole('link', { name: 'sweep-sentiment v1' }).click();
    await page.waitForURL(/#\/registry\/sweep-sentiment\/1$/);
    await studio.goto('registry/sweep-sentiment');
    await expect(page.locator('table[aria-label="Versions of sweep-sentiment"] tr[data-version="1"] [data-status]').textContent()).resolves.toBe('production');
    await studio.goto('sweeps');
    await expect(page.getByRole('table', { name: 'Sweeps' }).locator('tbody tr').first().textContent()).resolves.toMatch(/e2e grid.*completed.*4 \/ 4.*val_accuracy/);
    await studio.screenshot('sweeps-list');
    expect(studio.errors).toEqual([]);
  });

  it('survives a reload mid-sweep: it continues by itself and repeats no finished trial', async () => {
    const { page } = studio;
    const sweepId = await startSweep(studio, GRID.replace('EPOCHS', '40').replace('e2e grid', 'reload grid'));
    const table = page.getByRole('table', { name: 'Trials' });
    await table.locator('tr[data-trial="2"][data-status="running"]').waitFor({ timeout: 120_000 });
    const before = await trialRuns(page, sweepId);
    const firstRun = before.find((r) => r.name.endsWith('trial 1'))!;
    expect(firstRun.status).toBe('completed');

    await page.reload();
    await page.locator('main h1').waitFor();
    await waitForStatus(page, 'completed');
    const after = await trialRuns(page, sweepId);
    expect(after).toHaveLength(4);
    expect(after.filter((r) => r.name.endsWith('trial 1'))).toEqual([firstRun]); // not trained again
    expect(after.every((r) => r.status === 'completed')).toBe(true);
    await expect(page.getByTestId('sweep-progress').textContent()).resolves.toBe('4 of 4 trials finished');
    expect(studio.errors).toEqual([]);
  });
});
