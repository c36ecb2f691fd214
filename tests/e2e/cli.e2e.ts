import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNumber } from '../../src/lib/ui/format';
import { openGate } from './flows';
import { openStudio, waitForServiceWorker, type Studio } from './harness';

type Classification = { label: string; score: number; probabilities: Record<string, number> };

const TEXTS = ['honestly wonderful experience', 'the service was terrible', 'scheduled day at the park'];

/** Every template with every word: 120 distinct, learnable sentences, as `text,label` CSV rows. */
function phrases(): string[] {
  const words: Record<string, string[]> = {
    negative: ['awful', 'terrible', 'hate', 'broken', 'worst', 'disappointing', 'angry', 'sad'],
    neutral: ['okay', 'scheduled', 'announced', 'located', 'average', 'update', 'listed', 'tuesday'],
    positive: ['great', 'love', 'amazing', 'wonderful', 'best', 'happy', 'excellent', 'beautiful'],
  };
  const templates = ['the service was {w}', '{w} day at the park', 'honestly {w} experience', 'this phone is {w}', 'my trip was {w}'];
  return Object.entries(words).flatMap(([label, list]) => templates.flatMap((t) => list.map((w) => `"${t.replace('{w}', w)}",${label}`)));
}

/** Runs the real `loupe` bin; fails the test with its stderr when it does not exit 0. */
function loupe(cwd: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'loupe.mjs'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`loupe ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

describe('a bundle trained by the CLI, in the studio', () => {
  let studio: Studio;
  let dir: string;
  let cliPredictions: Classification[];
  let datasetVersion: string;

  beforeAll(async () => {
    // The phrase set the studio's own e2e tests train on, as the CSV a user would hand the CLI.
    dir = mkdtempSync(join(tmpdir(), 'loupe-cli-e2e-'));
    writeFileSync(join(dir, 'phrases.csv'), `text,label\n${phrases().join('\n')}\n`);
    writeFileSync(join(dir, 'train.json'), JSON.stringify({ model: { architecture: 'fasttext', dim: 8 }, learningRate: 0.05, batchSize: 16, earlyStopping: false }));
    const summary = JSON.parse(loupe(dir, 'train', '--task', 'sentiment', '--data', 'phrases.csv', '--config', 'train.json', '--epochs', '6', '--out', 'sentiment.zip'));
    datasetVersion = summary.datasetVersion as string;
    writeFileSync(join(dir, 'texts.jsonl'), TEXTS.map((text) => JSON.stringify({ text })).join('\n'));
    cliPredictions = (JSON.parse(loupe(dir, 'predict', '--model', 'sentiment.zip', '--input', 'texts.jsonl')) as { predictions: Classification[] }).predictions;

    studio = await openStudio();
    // The same engine as the CLI's (WebAssembly), so the two predictions can be compared closely.
    await studio.goto('settings');
    await studio.page.getByLabel('Backend for training and inference').selectOption('wasm');
  });
  afterAll(async () => {
    await studio?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports the same CSV in the studio to the same dataset version the CLI trained on', async () => {
    const { page } = studio;
    await studio.goto('datasets');
    await page.getByLabel('Task').selectOption('sentiment');
    await page.getByLabel('Files or zip').setInputFiles(join(dir, 'phrases.csv'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-result');
    await result.waitFor({ timeout: 60_000 });
    await expect(result.textContent()).resolves.toContain(`Stored phrases.csv — version ${datasetVersion.slice(0, 12)}, 120 samples`);
  });

  it('imports the bundle on the Registry page, passes the gate on that data, and predicts what the CLI predicted', async () => {
    const { page } = studio;
    expect(cliPredictions).toHaveLength(TEXTS.length);

    await studio.goto('registry');
    const form = page.getByRole('form', { name: 'Import a bundle' });
    await form.getByLabel('Bundle (.zip exported by Loupe)').setInputFiles({ name: 'sentiment.zip', mimeType: 'application/zip', buffer: readFileSync(join(dir, 'sentiment.zip')) });
    await form.getByRole('button', { name: 'Import' }).click();
    await page.waitForURL(/#\/registry\/sentiment\/1$/);
    await page.locator('.muted', { hasText: 'imported from a bundle of sentiment v1' }).waitFor();
    await studio.screenshot('cli-bundle-imported');

    // Production only through the gate, measured live in the trainer worker on the held-out split of the
    // dataset version the bundle's lineage names — the one the studio just imported.
    await studio.goto('registry/sentiment');
    await openGate(page, 1, datasetVersion, 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });

    await studio.goto('predict');
    await waitForServiceWorker(page);
    const predictor = page.getByRole('form', { name: 'Predict with sentiment' });
    await predictor.getByLabel('Text').fill(TEXTS[0]!);
    await predictor.getByRole('button', { name: 'Predict' }).click();
    const shown = page.getByTestId('prediction');
    await shown.waitFor();
    await expect(shown.locator('.value').textContent()).resolves.toBe(cliPredictions[0]!.label);
    await expect(shown.locator('.headline .muted').textContent()).resolves.toBe(`score ${formatNumber(cliPredictions[0]!.score)}`);
    await expect(page.getByTestId('answered-by').textContent()).resolves.toMatch(/sentiment\s*v1 .* on wasm/);
    await studio.screenshot('cli-bundle-predict');

    // The REST API answers every text with the CLI's values, to float32 precision.
    const answer = await page.evaluate(async (texts) => {
      const response = await fetch(new URL('api/models/sentiment/invocations', document.baseURI), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: texts.map((text) => ({ text })) }),
      });
      return { status: response.status, body: (await response.json()) as { predictions: Classification[] } };
    }, TEXTS);
    expect(answer.status).toBe(200);
    answer.body.predictions.forEach((studioPrediction, i) => {
      const cli = cliPredictions[i]!;
      expect(studioPrediction.label).toBe(cli.label);
      for (const [label, p] of Object.entries(cli.probabilities)) expect(studioPrediction.probabilities[label]).toBeCloseTo(p, 5);
    });
    expect(studio.errors).toEqual([]);
  });
});
