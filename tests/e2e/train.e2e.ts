import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPhrases, waitForTrainingDone } from './flows';
import { openStudio, type Studio } from './harness';

describe('train page', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, 'e2e-sentiment', 'phrases');
  });
  afterAll(async () => studio?.close());

  it('trains in the worker with live curves, then lists the completed run', async () => {
    const { page } = studio;
    await page.getByLabel('Task').selectOption('text-classification');
    await page.getByLabel('Text model').selectOption('fasttext');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill('6');
    await page.getByLabel('Batch size').fill('16');
    await page.getByLabel('Learning rate').fill('0.05');
    await page.getByLabel('Run name').fill('e2e fasttext');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect(page.getByTestId('train-state').textContent()).resolves.toMatch(/starting|running|completed/);
    const state = page.getByTestId('train-state');
    await waitForTrainingDone(page);
    await expect(state.textContent()).resolves.toBe('completed');
    const final = await page.getByTestId('final-metrics').textContent();
    const accuracy = Number(/val_accuracy\s*([\d.]+)/.exec(final ?? '')?.[1]);
    expect(accuracy).toBeGreaterThan(0.6); // chance is 1/3
    await page.getByRole('img', { name: 'Loss: train (running mean), validation' }).locator('canvas').waitFor();
    await page.getByRole('img', { name: 'val_accuracy: val_accuracy' }).locator('canvas').waitFor();
    await studio.screenshot('train-completed');

    await studio.goto('runs');
    const row = page.locator('tr', { hasText: 'e2e fasttext' });
    await expect(row.locator('.badge').textContent()).resolves.toBe('completed');
    await expect(row.textContent()).resolves.toMatch(/text-classification.*accuracy/);

    await row.getByRole('link', { name: 'e2e fasttext' }).click();
    const analysis = page.getByRole('region', { name: 'Error analysis' });
    await expect(analysis.textContent()).resolves.toMatch(/Accuracy [\d.]+ \(95 % CI [\d.]+–[\d.]+\)/);
    const matrix = analysis.locator('table.matrix tbody tr');
    await expect.poll(() => matrix.count()).toBe(3);
    await expect.poll(() => analysis.getByRole('table', { name: 'Per-class precision and recall' }).locator('tbody tr').count()).toBe(3);
    await studio.screenshot('run-detail-classification');
    expect(studio.errors).toEqual([]);
  });
});

describe('cross-validation', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, 'e2e-kfold', 'phrases for k-fold');
  });
  afterAll(async () => studio?.close());

  it('runs 3 folds and shows each fold with mean ± std', async () => {
    const { page } = studio;
    await page.getByLabel('Text model').selectOption('fasttext');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill('2');
    await page.getByLabel('Cross-validation folds').fill('3');
    await page.getByLabel('Run name').fill('cv');
    await page.getByRole('button', { name: 'Start training' }).click();
    await waitForTrainingDone(page);
    await studio.goto('runs');
    await page.getByRole('link', { name: 'cv · 3-fold CV' }).click();
    const folds = page.getByRole('region', { name: 'Folds' });
    await expect.poll(() => folds.locator('tbody tr').count()).toBe(4);
    await expect(folds.locator('tr.summary').textContent()).resolves.toMatch(/mean ± std.*[\d.]+ ± [\d.]+/);
    await studio.screenshot('run-detail-kfold');
    expect(studio.errors).toEqual([]);
  });
});

describe('resume after reload', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, 'e2e-resume', 'phrases for resume');
  });
  afterAll(async () => studio?.close());

  it('offers to resume a run interrupted by a reload, and finishes it from its checkpoint', async () => {
    const { page } = studio;
    await page.getByLabel('Text model').selectOption('fasttext');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill('8');
    await page.getByLabel('Batch size').fill('8');
    await page.getByLabel('Early stopping on val accuracy').uncheck();
    await page.getByLabel('Run name').fill('interrupted run');
    await page.getByRole('button', { name: 'Start training' }).click();
    // Wait until at least two epochs are checkpointed, then reload mid-run.
    await page.getByRole('img', { name: /^val_accuracy/ }).locator('canvas').waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => /epoch [3-7]\//.test(document.querySelector('[aria-label="Training progress"]')?.textContent ?? ''), undefined, {
      timeout: 120_000,
    });
    await page.reload();
    const offer = page.getByRole('status').filter({ hasText: 'interrupted run — Interrupted' });
    await expect(offer.textContent({ timeout: 30_000 })).resolves.toMatch(/Resume continues after epoch \d+/);
    await studio.screenshot('train-resume-offer');
    // Everywhere the run appears it reads as interrupted, not failed, with its Resume action.
    await expect(offer.locator('.badge').textContent()).resolves.toBe('interrupted — resumable');
    await studio.goto('runs');
    const row = page.locator('tr', { hasText: 'interrupted run' });
    await expect(row.getByTestId('run-status').textContent()).resolves.toBe('interrupted — resumable');
    await expect(row.getByTestId('run-status').getAttribute('class')).resolves.not.toMatch(/error/);
    await row.getByRole('link', { name: 'interrupted run' }).click();
    await page.getByRole('heading', { level: 2, name: 'interrupted run' }).waitFor();
    await expect(page.getByTestId('run-status').textContent()).resolves.toBe('interrupted — resumable');
    await expect.poll(() => page.getByRole('button', { name: 'Resume interrupted run' }).count()).toBe(1);
    await studio.goto('runs');
    // Resume from the Runs list: Train shows the run's own settings in its form, not the task's defaults.
    await row.getByRole('button', { name: 'Resume interrupted run' }).click();
    await page.waitForURL(/#\/train$/);
    await expect.poll(() => page.getByLabel('Run name').inputValue()).toBe('interrupted run');
    await expect(page.getByLabel('Embedding width').inputValue()).resolves.toBe('8');
    await expect(page.getByLabel('Epochs', { exact: true }).inputValue()).resolves.toBe('8');
    await expect(page.getByLabel('Batch size').inputValue()).resolves.toBe('8');
    await expect.poll(() => page.getByLabel('Early stopping on val accuracy').isChecked()).toBe(false);
    await waitForTrainingDone(page, 180_000);
    await studio.goto('runs');
    await expect(row.getByTestId('run-status').textContent()).resolves.toBe('completed');
    await expect(row.locator('td').last().textContent()).resolves.toMatch(/^\d+(\.\d+)? (ms|s|min \d+ s)$/);
    expect(studio.errors).toEqual([]);
  });
});
