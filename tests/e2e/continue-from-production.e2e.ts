import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src/lib/datasets/png';
import { openStudio, type Studio } from './harness';

const MODEL = 'photos';
const LABELS = ['dark', 'bright'];

/**
 * Seeds one dataset version of `count` 16×16 grey photos, dark or bright by index (learnable in a step or
 * two; the last `val` are the val split), as an import would store it.
 */
async function seedPhotos(studio: Studio, id: string, name: string, count: number, val: number, offset: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => {
    const label = LABELS[i % 2]!;
    const png = encodePng({ width: 16, height: 16, channels: 1, data: new Uint8Array(256).fill(i % 2 ? 190 + offset + i : 20 + offset + i) }, 1);
    return { id: `${id}-${i}`, datasetId: id, split: i < count - val ? 'train' : 'val', label, hash: `${id}-h${i}`, path: `${label}/${offset + i}.png`, png: Buffer.from(png).toString('base64') };
  });
  // Blobs do not cross into the page: the PNGs travel as base64 and become Blobs there.
  await studio.page.evaluate(
    async ({ rows, dataset }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(['datasets', 'samples'], 'readwrite');
        tx.objectStore('datasets').put({ ...dataset, createdAt: Date.now() });
        for (const { png, ...row } of rows) tx.objectStore('samples').put({ ...row, blobs: [new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: 'image/png' })] });
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { rows, dataset: { id, name, task: 'image-classification', sampleCount: count, labels: LABELS } },
  );
  await studio.page.reload();
  await studio.page.locator('main h1').waitFor();
}

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
    await seedPhotos(studio, 'e2e-photos-1', 'photos', 16, 4, 0);
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
    await seedPhotos(studio, 'e2e-photos-2', 'photos (new)', 6, 0, 40);
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
