import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPhotos } from './flows';
import { openStudio, type Studio } from './harness';

const MODEL = 'photos';

/** Waits until the history's newest row shows the run finished, as the user reads it; a failed run fails fast with its message. */
async function waitForRun(page: Page, row: Locator): Promise<void> {
  const done = row.locator('[data-run-status="completed"], [data-run-status="failed"]').first();
  await done.waitFor({ timeout: 240_000 });
  if ((await done.textContent()) === 'failed') {
    await row.getByRole('button', { name: 'Steps' }).click();
    throw new Error(`the pipeline run failed: ${await page.locator('.detail p.error').first().textContent()}`);
  }
}

describe('a pipeline that continues from production', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('settings');
    // WebAssembly: the fastest backend on this CPU-only machine (WebGPU runs on SwiftShader here).
    await studio.page.getByLabel('Backend for training and inference').selectOption('wasm');
    await seedPhotos(studio, { id: 'e2e-photos-1', name: 'photos', count: 16, val: 4, offset: 0 });
  }, 60_000);
  afterAll(async () => studio?.close());

  it('the first run (nothing in production) starts as configured and is promoted; after a new dataset version the next run fine-tunes production, and its version links to it', async () => {
    const { page } = studio;
    await studio.goto('pipelines');
    await page.getByRole('button', { name: 'New pipeline' }).click();
    const form = page.getByRole('form', { name: 'New pipeline' });
    await form.getByLabel('Task').selectOption('image-classification');
    await form.getByLabel('Model name (registry)').fill(MODEL);
    await form.getByLabel('Pipeline name').fill('Photos from production');
    await form.getByRole('combobox', { name: /^Schedule/ }).selectOption('none');
    await form.getByLabel(/new labelled samples/).fill('0');
    await form.getByLabel('Epochs').fill('1');
    await form.getByLabel('Batch size').fill('6');
    await form.getByLabel('Learning rate').fill('0.005');
    await form.getByLabel(/Early-stopping patience/).fill('0');
    await form.getByLabel('Model (JSON)').fill('{"architecture":"damage-classifier","backbone":"mobilenetv3-small","inputSize":32,"projection":null,"dropout":0,"augmentation":"none"}');
    // By keyboard, as a user without a mouse would: focus the labelled select, arrow to the second option.
    const from = form.getByLabel('Each run starts from');
    await from.focus();
    await from.press('ArrowDown');
    await expect(from.locator('option:checked').textContent()).resolves.toBe('the production version (continue from production)');
    await form.getByRole('button', { name: 'Create pipeline' }).click();
    await page.waitForURL(/#\/pipelines\/pl-/);
    await page.getByRole('heading', { name: /Photos from production/ }).waitFor();
    await page.getByText(/· continues from production$/).waitFor();

    const history = page.getByRole('table', { name: 'Runs of Photos from production' });
    await page.getByRole('button', { name: 'Run now' }).click();
    await waitForRun(page, history.locator('tbody tr').first());
    const first = history.locator('tbody tr').first();
    await expect(first.getAttribute('data-gate')).resolves.toBe('promoted');
    await first.getByRole('button', { name: 'Steps' }).click();
    await expect(page.locator('li[data-step="train"] pre').textContent()).resolves.toContain(`nothing of ${MODEL} is in production yet: starting as the recipe says`);

    // New labelled photos arrive as a dataset version of their own; the next run adds them to the base.
    await seedPhotos(studio, { id: 'e2e-photos-2', name: 'photos (new)', count: 6, val: 0, offset: 40 });
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => history.locator('tbody tr').count()).toBe(2);
    const second = history.locator('tbody tr').first();
    await waitForRun(page, second);
    await second.getByRole('button', { name: 'Steps' }).click();
    await expect(page.locator('li[data-step="dataset"] pre').textContent()).resolves.toMatch(/6 sample\(s\) added/);
    await expect(page.locator('li[data-step="train"] pre').textContent()).resolves.toContain(`continuing from production: a warm start from ${MODEL} v1`);

    // The new version's page names the production version it started from, and links to it.
    await second.getByRole('link', { name: 'v2' }).click();
    await page.waitForURL(new RegExp(`#/registry/${MODEL}/2$`));
    const lineage = page.getByTestId('first-weights');
    await expect(lineage.textContent()).resolves.toMatch(new RegExp(`fine-tuned from ${MODEL} v1\\s+\\(backbone and head\\)`));
    await expect(page.getByRole('table', { name: 'Parameters' }).locator('tr', { hasText: /^init/ }).textContent()).resolves.toContain(`version:${MODEL}@1`);
    await lineage.getByRole('link', { name: `${MODEL} v1` }).click();
    await page.waitForURL(new RegExp(`#/registry/${MODEL}/1$`));
    await page.locator('#version-title').filter({ hasText: 'v1' }).waitFor();
    // v1 started from scratch: no first weights to show.
    await expect(page.getByTestId('first-weights').count()).resolves.toBe(0);

    // The run behind v2 records the init among its parameters.
    await page.goBack();
    await page.locator('#version-title').filter({ hasText: 'v2' }).waitFor();
    await page.getByRole('region', { name: 'Lineage' }).locator('a[href^="#/runs/"]').click();
    await page.waitForURL(/#\/runs\//);
    const init = page.getByRole('table', { name: 'Parameters' }).locator('tr', { hasText: /^init/ });
    await init.waitFor();
    await expect(init.locator('td').textContent()).resolves.toBe(`version:${MODEL}@1`);
    expect(studio.errors).toEqual([]);
  }, 420_000);
});
