import type { Page } from 'playwright-core';
import { expect } from 'vitest';
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
