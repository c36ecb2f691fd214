import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGate, registerRun, seedPhrases, waitForTrainingDone } from './flows';
import { openStudio, waitForServiceWorker, type Studio } from './harness';

const DATASET = 'e2e-lexicon-phrases';

describe('lexicon-aware text model', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, DATASET);
  });
  afterAll(async () => studio?.close());

  it('trains from the Train page, registers, goes to production and answers POST /api/predict', async () => {
    const { page } = studio;
    await page.getByLabel('Task').selectOption('text-classification');
    await page.getByLabel('Text model').selectOption('lexicon-fasttext');
    await page.getByText('Model: fastText + sentiment lexicons').waitFor();
    await page.getByLabel('N-gram dropout').fill('0.5');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill('6');
    await page.getByLabel('Batch size').fill('16');
    await page.getByLabel('Learning rate').fill('0.05');
    await page.getByLabel('Run name').fill('e2e lexicon');
    await studio.screenshot('train-lexicon-form');
    await page.getByRole('button', { name: 'Start training' }).click();
    await waitForTrainingDone(page);
    const final = await page.getByTestId('final-metrics').textContent();
    expect(Number(/val_accuracy\s*([\d.]+)/.exec(final ?? '')?.[1])).toBeGreaterThan(0.6); // chance is 1/3
    await studio.screenshot('train-lexicon-completed');

    await registerRun(page, 'e2e lexicon', 1, 'sentiment');
    await studio.goto('registry/sentiment');
    await openGate(page, 1, DATASET, 'recorded');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor();

    // Served by the inference worker from the registered weights: the lexicon features are computed there too.
    await waitForServiceWorker(page);
    const answer = await page.evaluate(async () => {
      const response = await fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'What a WONDERFUL day!!' }) });
      return { status: response.status, body: (await response.json()) as { label?: string; score?: number } };
    });
    expect(answer.status).toBe(200);
    expect(['negative', 'neutral', 'positive']).toContain(answer.body.label);
    expect(answer.body.score).toBeGreaterThan(0);
    expect(studio.errors).toEqual([]);
  });
});
