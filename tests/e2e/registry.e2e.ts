import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { strToU8, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveToBlobs } from '../../models/io';
import { openStudio, readTable, type Studio } from './harness';
import { openGate, registerRun, seedPhrases, trainSentiment } from './flows';

const DATASET = 'ds-e2e-eval-1';
const LOCK = 'loupe-registry-coin-year';
/** These coin models are stand-ins without the task's metadata, so their gate compares recorded metrics. */
const promote = (page: Page, version: number, evalSet = DATASET, measure: 'recorded' | 'live' = 'recorded') => openGate(page, version, evalSet, measure);

interface SeedRun {
  id: string;
  name: string;
  mae: number;
  rmse: number;
}

/** A tiny tfjs model saved as the registry stores models (model.json + shard bytes). */
async function tinyModel(): Promise<{ modelJson: string; shards: number[][] }> {
  await tf.setBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 }), tf.layers.dense({ units: 1 })] });
  const saved = await saveToBlobs(model);
  model.dispose();
  return { modelJson: saved.modelJson, shards: await Promise.all(saved.shards.map(async (s) => Array.from(new Uint8Array(await s.arrayBuffer())))) };
}

/**
 * Writes completed runs, each with a saved model in its last checkpoint (as a trained run leaves it),
 * straight into the page's IndexedDB; the UI does the rest.
 */
async function seedRuns(studio: Studio, runs: SeedRun[]): Promise<void> {
  const model = await tinyModel();
  await studio.page.evaluate(
    async ({ runs, model, dataset }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(['runs', 'checkpoints'], 'readwrite');
        runs.forEach((run, i) => {
          const now = Date.now() - (runs.length - i) * 60_000;
          tx.objectStore('runs').put({
            id: run.id,
            name: run.name,
            task: 'coin-year',
            status: 'completed',
            createdAt: now,
            startedAt: now,
            endedAt: now + 30_000,
            params: { task: 'coin-year', datasetId: dataset, model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 64 }, epochs: 3, learningRate: 0.001 },
            seed: 1,
            backend: 'cpu',
            datasetVersion: dataset,
            appVersion: '0.1.0',
            metrics: { val_mae: run.mae, val_rmse: run.rmse, mae: run.mae / 2 },
          });
          tx.objectStore('checkpoints').put({
            id: `${run.id}:3`,
            runId: run.id,
            epoch: 3,
            createdAt: now,
            modelJson: model.modelJson,
            shards: model.shards.map((bytes) => new Blob([new Uint8Array(bytes)])),
          });
        });
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { runs, model, dataset: DATASET },
  );
  await studio.page.reload();
  await studio.page.locator('main h1').waitFor();
}

const row = (page: Page, version: number) => page.locator(`table[aria-label="Versions of coin-year"] tr[data-version="${version}"]`);
const statusOf = (page: Page, version: number) => row(page, version).locator('[data-status]').textContent();
const statusOfModel = (page: Page, model: string, version: number) =>
  page.locator(`table[aria-label="Versions of ${model}"] tr[data-version="${version}"] [data-status]`).textContent();

/** Statuses and the production alias of coin-year, as stored. */
async function registryState(page: Page): Promise<{ statuses: Record<number, string>; production?: number }> {
  const versions = await readTable<{ name: string; version: number; status: string }>(page, 'modelVersions');
  const aliases = await readTable<{ name: string; alias: string; version: number }>(page, 'aliases');
  return {
    statuses: Object.fromEntries(versions.filter((v) => v.name === 'coin-year').map((v) => [v.version, v.status])),
    production: aliases.find((a) => a.name === 'coin-year' && a.alias === 'production')?.version,
  };
}

describe('registry', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('registry'); // opens (and creates) the database
    await seedRuns(studio, [
      { id: 'r-worse', name: 'resnet lr 1e-3', mae: 14.2, rmse: 18 },
      { id: 'r-better', name: 'resnet lr 3e-4', mae: 11.8, rmse: 15.5 },
      { id: 'r-third', name: 'mobilenet dual', mae: 10.9, rmse: 15 },
      { id: 'r-fourth', name: 'mobilenet shared', mae: 10.5, rmse: 14.8 },
    ]);
  });
  afterAll(async () => studio?.close());

  it('registers two runs as versions 1 and 2, with lineage and an auto-filled card', async () => {
    const { page } = studio;
    await registerRun(page, 'resnet lr 1e-3', 1);
    await expect(page.locator('[data-status]').first().textContent()).resolves.toBe('candidate');
    const card = page.getByRole('article', { name: 'Model card of v1' });
    await expect.poll(() => card.locator('h4', { hasText: 'Intended use' }).count()).toBe(1);
    await expect(card.textContent()).resolves.toContain(DATASET);
    await expect(page.locator('.facts').textContent()).resolves.toContain(DATASET);
    await studio.screenshot('registry-version');
    await registerRun(page, 'resnet lr 3e-4', 2);
    await studio.goto('registry');
    await expect.poll(() => page.getByRole('table', { name: 'Models' }).locator('tbody tr').count()).toBe(1);
    await studio.screenshot('registry-models');
  });

  it('promotes the better version and rejects the worse one, keeping the reason', async () => {
    const { page } = studio;
    await studio.goto('registry/coin-year');
    await promote(page, 2);
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'no production version yet' }).textContent()).resolves.toContain('mae clears the absolute threshold');
    await expect.poll(() => statusOf(page, 2)).toBe('production');

    await promote(page, 1);
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Promotion rejected' });
    await expect(alert.textContent()).resolves.toMatch(/mae 14\.2 is not better than production v2's 11\.8/);
    await expect.poll(() => statusOf(page, 1)).toBe('rejected');
    await expect(row(page, 1).locator('.reason').textContent()).resolves.toMatch(/not better than production v2/);
    expect(await registryState(page)).toEqual({ statuses: { 1: 'rejected', 2: 'production' }, production: 2 });

    const audit = page.getByRole('table', { name: 'Audit trail' });
    await expect.poll(() => audit.locator('tr[data-outcome="rejected"]').count()).toBe(1);
    await expect.poll(() => audit.locator('tr[data-outcome="promoted"]').count()).toBe(1);
    await audit.locator('tr[data-outcome="rejected"]').getByRole('button', { name: 'Show metrics and rule' }).click();
    await expect(audit.getByRole('table', { name: 'Gate metrics of v1' }).locator('tbody tr').first().textContent()).resolves.toMatch(/mae \(primary\)\s*14\.2\s*11\.8/);
    await studio.screenshot('registry-gate');

    const csv = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const text = readFileSync((await (await csv).path())!, 'utf8');
    expect(text.split('\r\n')[0]).toContain('candidate.mae');
    expect(text).toMatch(/,gate,rejected,manual,1,2,2,ds-e2e-eval-1,/);

    const best = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download best_metrics.json' }).click();
    const download = await best;
    expect(download.suggestedFilename()).toBe('best_metrics.json');
    const json = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { best: { version: number }; production: { version: number } };
    expect(json).toMatchObject({ best: { version: 2 }, production: { version: 2 }, perMetric: { mae: { value: 11.8, version: 2 } } });
  });

  it('two pages promoting at once, queued on the Web Lock, end with exactly one production version', async () => {
    const { page } = studio;
    await registerRun(page, 'mobilenet dual', 3);
    await registerRun(page, 'mobilenet shared', 4);
    const other = await studio.browser.context.newPage();
    const holder = await studio.browser.context.newPage();
    try {
      await studio.goto('registry/coin-year');
      await other.goto(`${studio.baseUrl}#/registry/coin-year`);
      await row(other, 4).waitFor();
      await promote(page, 3);
      await promote(other, 4);
      // A third tab holds the model's lock, so both gates must queue behind it.
      await holder.goto(`${studio.baseUrl}#/settings`);
      await holder.evaluate((name) => {
        void navigator.locks.request(name, () => new Promise<void>((resolve) => ((window as unknown as { release: () => void }).release = resolve)));
      }, LOCK);
      await Promise.all([
        page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click(),
        other.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click(),
      ]);
      await holder.waitForFunction(async (name) => (await navigator.locks.query()).pending?.filter((l) => l.name === name).length === 2, LOCK);
      expect((await registryState(page)).production).toBe(2); // nothing moved while the lock was held
      await holder.evaluate(() => (window as unknown as { release: () => void }).release());

      const outcome = (p: Page) => p.locator('.outcome').first().textContent();
      await page.locator('.outcome').waitFor();
      await other.locator('.outcome').waitFor();
      const texts = [await outcome(page), await outcome(other)];
      expect(texts.filter((t) => t?.includes('Promotion rejected'))).toHaveLength(1);
      expect(texts.filter((t) => t?.startsWith('Promoted'))).toHaveLength(1);
      const state = await registryState(page);
      expect(Object.values(state.statuses).filter((s) => s === 'production')).toHaveLength(1);
      expect(state.statuses[state.production!]).toBe('production');
      expect([3, 4]).toContain(state.production);
      // The second gate was judged against the first one's winner, not the stale v2.
      const loser = state.production === 3 ? 4 : 3;
      await expect(row(page, loser).locator('.reason').textContent()).resolves.toContain(`production v${state.production}`);
      await studio.screenshot('registry-concurrent');
    } finally {
      await other.close();
      await holder.close();
    }
  });

  it('rolls back to an earlier version with the keyboard alone, and records it', async () => {
    const { page } = studio;
    await studio.goto('registry/coin-year');
    const state = await registryState(page);
    const before = state.production!;
    // Only versions that were production before are offered; a rejected one never is.
    await page.getByRole('button', { name: 'Roll back to v2' }).waitFor();
    const rejected = Object.entries(state.statuses).filter(([, status]) => status === 'rejected').map(([version]) => Number(version));
    expect(rejected.length).toBeGreaterThan(0);
    for (const version of rejected) expect(await page.getByRole('button', { name: `Roll back to v${version}` }).count()).toBe(0);
    await page.getByRole('button', { name: 'Roll back to v2' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByLabel('Reason (kept in the audit trail)').focus();
    await page.keyboard.type('drift on live traffic');
    await page.keyboard.press('Tab'); // Cancel
    await page.keyboard.press('Tab'); // Roll back
    await page.keyboard.press('Enter');
    await expect(page.getByRole('status').filter({ hasText: 'Rolled back' }).textContent()).resolves.toBe(
      `Rolled back production from v${before} to v2: drift on live traffic`,
    );
    expect(await registryState(page)).toMatchObject({ production: 2, statuses: { 2: 'production', [before]: 'archived' } });
    const entry = page.getByRole('table', { name: 'Audit trail' }).locator('tr[data-outcome="rolled-back"]');
    await expect(entry.textContent()).resolves.toContain('drift on live traffic');
    await expect(entry.textContent()).resolves.toContain(`v${before} → v2`);
    await studio.screenshot('registry-rollback');
  });

  it('compares two versions side by side', async () => {
    const { page } = studio;
    await studio.goto('registry/coin-year');
    await page.getByLabel('Compare v1').check();
    await page.getByLabel('Compare v2').check();
    await page.getByRole('button', { name: 'Compare v1 and v2' }).click();
    await page.waitForURL(/#\/registry\/coin-year\/compare\/1\/2$/);
    const mae = page.getByRole('region', { name: 'Version comparison' }).locator('tr[data-metric="mae"]');
    await expect.poll(() => mae.locator('td').allTextContents()).toEqual(['14.2', '11.8 ✓ (better)']);
    await studio.screenshot('registry-compare');
  });

  it('exports a bundle and imports it again; refuses hostile bundles with a clear message and writes nothing', async () => {
    const { page } = studio;
    await studio.goto('registry/coin-year/2');
    const saved = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export bundle (.zip)' }).click();
    const bundle = await saved;
    expect(bundle.suggestedFilename()).toBe('coin-year-v2.zip');
    const bytes = readFileSync((await bundle.path())!);

    await studio.goto('registry');
    const form = page.getByRole('form', { name: 'Import a bundle' });
    const models = page.getByRole('table', { name: 'Models' }).locator('tbody tr');
    const hostile = [
      { name: 'notes.zip', buffer: Buffer.from('just text'), message: /notes\.zip was not imported — is not a zip file/ },
      { name: 'evil.zip', buffer: Buffer.from(zipSync({ '../../evil.sh': strToU8('rm -rf ~') })), message: /climbs out of the bundle with "\.\." \(path traversal\)/ },
      { name: 'partial.zip', buffer: Buffer.from(zipSync({ 'model.json': strToU8('{}') })), message: /the bundle has no MLmodel/ },
    ];
    for (const file of hostile) {
      await form.getByLabel('Bundle (.zip exported by Loupe)').setInputFiles({ name: file.name, mimeType: 'application/zip', buffer: file.buffer });
      await form.getByRole('button', { name: 'Import' }).click();
      await form.getByRole('alert').filter({ hasText: file.message }).waitFor();
    }
    await expect.poll(() => models.count()).toBe(1);
    await studio.screenshot('registry-import-refused');

    await form.getByLabel('Bundle (.zip exported by Loupe)').setInputFiles({ name: 'coin-year-v2.zip', mimeType: 'application/zip', buffer: bytes });
    await form.getByLabel('Register as model (optional)').fill('coin-year-copy');
    await form.getByRole('button', { name: 'Import' }).click();
    await page.waitForURL(/#\/registry\/coin-year-copy\/1$/);
    await expect(page.getByRole('table', { name: 'Metrics of v1' }).textContent()).resolves.toMatch(/val mae\s*11\.8/);
    await expect.poll(() => page.locator('.muted', { hasText: 'imported from a bundle of coin-year v2' }).count()).toBe(1);
  });

  it('renders an edited card as text: HTML and script links never become markup', async () => {
    const { page } = studio;
    await studio.goto('registry/coin-year/1');
    await page.getByRole('button', { name: 'Edit card' }).click();
    await page.getByLabel('Markdown').fill('# Card\n\n<img src=x onerror="window.pwned=1"> **bold** [docs](https://example.org) [bad](javascript:window.pwned=2)\n\n<script>window.pwned=3</script>');
    await page.getByRole('button', { name: 'Save card' }).click();
    const card = page.getByRole('article', { name: 'Model card of v1' });
    await card.waitFor();
    await expect.poll(() => card.locator('img, script').count()).toBe(0);
    await expect(card.locator('strong').textContent()).resolves.toBe('bold');
    await expect(card.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).resolves.toEqual(['https://example.org']);
    await expect(card.textContent()).resolves.toContain('<img src=x onerror="window.pwned=1">');
    await expect(page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).resolves.toBeUndefined();
    await studio.screenshot('registry-card');
    expect(studio.errors).toEqual([]);
  });
});

describe('promotion gate with the live evaluator', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, 'e2e-phrases');
  });
  afterAll(async () => studio?.close());

  it('measures champion and challenger in the trainer worker on the same held-out split: the trained model wins, the untrained one is rejected', async () => {
    const { page } = studio;
    await trainSentiment(studio, { name: 'weak run', epochs: 1, learningRate: 0.0001 });
    await trainSentiment(studio, { name: 'strong run', epochs: 6, learningRate: 0.05 });
    await registerRun(page, 'weak run', 1, 'sentiment');
    await registerRun(page, 'strong run', 2, 'sentiment');

    await studio.goto('registry/sentiment');
    await promote(page, 2, 'e2e-phrases', 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });
    // The message comes from the gate's answer; the list follows from the stored row a moment later.
    await expect.poll(() => statusOfModel(page, 'sentiment', 2)).toBe('production');

    await promote(page, 1, 'e2e-phrases', 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Promotion rejected' });
    await alert.waitFor({ timeout: 120_000 });
    await expect(alert.textContent()).resolves.toMatch(/accuracy [\d.]+ is not better than production v2's [\d.]+/);
    await expect.poll(() => statusOfModel(page, 'sentiment', 1)).toBe('rejected');

    const audit = page.getByRole('table', { name: 'Audit trail' });
    await audit.locator('tr[data-outcome="rejected"]').getByRole('button', { name: 'Show metrics and rule' }).click();
    const metrics = audit.getByRole('table', { name: 'Gate metrics of v1' });
    const [challenger, champion] = (await metrics.locator('tbody tr').first().locator('td').allTextContents()).map(Number);
    expect(champion).toBeGreaterThan(0.6); // chance is 1/3
    expect(challenger).toBeLessThan(champion!);
    await expect(audit.textContent()).resolves.toContain('Measured by: measured in the trainer worker');
    await studio.screenshot('registry-live-gate');
    expect(studio.errors).toEqual([]);
  });
});
