import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { encodePng } from '../../src/lib/datasets/png';
import { sentimentSamples } from './fixtures';
import { seedRows, type Studio } from './harness';

/** Seeds the learnable phrase dataset (see fixtures.ts) as one sentiment dataset version. */
export async function seedPhrases(studio: Studio, datasetId: string, name = 'phrases'): Promise<void> {
  const samples = sentimentSamples(datasetId);
  await seedRows(studio, {
    datasets: [{ id: datasetId, name, task: 'text-classification', preset: 'sentiment', createdAt: Date.now(), sampleCount: samples.length }],
    samples,
  });
}

const PHOTO_LABELS = ['dark', 'bright'];

/**
 * Seeds one dataset version of `count` 16×16 grey photos, dark or bright by index (learnable in a step or
 * two; the last `val` are the val split; `offset` shifts their grey levels), as an import would store it.
 */
export async function seedPhotos(studio: Studio, { id, name, count, val, offset }: { id: string; name: string; count: number; val: number; offset: number }): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => {
    const label = PHOTO_LABELS[i % 2]!;
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
    { rows, dataset: { id, name, task: 'image-classification', sampleCount: count, labels: PHOTO_LABELS } },
  );
  await studio.page.reload();
  await studio.page.locator('main h1').waitFor();
}

/** Resolves when the Train page shows the run as completed. */
export async function waitForTrainingDone(page: Page, timeout = 120_000, runName?: string): Promise<void> {
  // With a name, wait for that run: until it starts, the page still shows the previous run as completed.
  await page.waitForFunction(
    (name) =>
      document.querySelector('[data-testid="train-state"]')?.textContent === 'completed' &&
      (name === undefined || (document.querySelector('.run-title')?.textContent ?? '').startsWith(`${name} · `)),
    runName,
    { timeout },
  );
}

/** Trains a small fastText sentiment model from the Train page and waits for it to complete. */
export async function trainSentiment(studio: Studio, run: { name: string; epochs: number; learningRate: number }): Promise<void> {
  const { page } = studio;
  await studio.goto('train');
  await page.getByLabel('Task').selectOption('text-classification');
  await page.getByLabel('Text model').selectOption('fasttext');
  await page.getByLabel('Embedding width').fill('8');
  await page.getByLabel('Epochs', { exact: true }).fill(String(run.epochs));
  await page.getByLabel('Batch size').fill('16');
  await page.getByLabel('Learning rate').fill(String(run.learningRate));
  await page.getByLabel('Run name').fill(run.name);
  await page.getByRole('button', { name: 'Start training' }).click();
  await waitForTrainingDone(page, undefined, run.name);
}

/** Registers a completed run from the Registry page's form and waits for the new version's page. */
export async function registerRun(page: Page, runName: string, expectedVersion: number, model = 'coin-year'): Promise<void> {
  await page.goto(page.url().replace(/#.*$/, '#/registry'));
  await page.locator('main h1').waitFor();
  const form = page.getByRole('form', { name: 'Register a run' });
  const option = form.locator('option', { hasText: runName });
  await form.getByLabel('Completed run').selectOption((await option.getAttribute('value'))!);
  await form.getByLabel('Model name').fill(model);
  await form.getByRole('button', { name: 'Register version' }).click();
  await page.waitForURL(new RegExp(`#/registry/${model}/${expectedVersion}$`));
  await page.locator('#version-title').filter({ hasText: `v${expectedVersion}` }).waitFor();
}

/**
 * Opens the promotion gate's dialog for a version of the model shown on the Registry page and picks
 * how to measure: `live` evaluates champion and challenger in the trainer worker, `recorded` compares the
 * metrics stored with each version (same dataset version).
 */
export async function openGate(page: Page, version: number, evalSet: string, measure: 'recorded' | 'live'): Promise<void> {
  await page.getByRole('button', { name: `Promote v${version}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await expect(dialog.getByLabel('Evaluation dataset version').inputValue()).resolves.toBe(evalSet);
  const choice = dialog.getByLabel('Measure with');
  if (measure === 'recorded') await choice.selectOption({ label: 'recorded held-out metrics (same dataset version)' });
  else await expect(choice.locator('option:checked').textContent()).resolves.toMatch(/trainer worker/);
}
