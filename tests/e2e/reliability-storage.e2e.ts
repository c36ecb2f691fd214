import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGate, registerRun, seedPhrases, waitForTrainingDone } from './flows';
import { openStudio, readTable, waitForServiceWorker, type Studio } from './harness';

const DATASET = 'e2e-quota';

interface RunRecord {
  id: string;
  name: string;
  status: string;
  resumable?: boolean;
  backend?: string;
  fallbacks?: { from: string; to: string }[];
}

interface Counts {
  datasets: string[];
  samples: number;
  staged: number;
}

/**
 * Storage running out, for real: Chromium's DevTools protocol lowers this origin's quota
 * (`Storage.overrideQuotaForOrigin`), and IndexedDB then refuses writes past it with a
 * `QuotaExceededError`, exactly as on a full disk or a small quota. Calling it without a size restores
 * the browser's own quota.
 */
describe('storage full (Chromium quota override)', () => {
  let studio: Studio;
  let cdp: CDPSession;
  let origin: string;
  let folder: string;

  /** Bytes this origin stores now (IndexedDB, Cache Storage, service worker). */
  const usage = () => studio.page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  const override = (quotaSize?: number) => cdp.send('Storage.overrideQuotaForOrigin', quotaSize === undefined ? { origin } : { origin, quotaSize });
  /**
   * Leaves `headroom` bytes above what the origin stores now. Chromium's IndexedDB caches the origin's
   * remaining space for 30 s and asks the quota manager again sooner only when a write needs more than
   * the cached amount (measured on Chromium 150): a lowered quota is enforced once that cache expires, so
   * this waits it out, then sets the quota again from the usage at that moment.
   */
  const lowerQuota = async (headroom: number) => {
    await override((await usage()) + headroom);
    await studio.page.waitForTimeout(31_000);
    await override((await usage()) + headroom);
  };
  /** The browser's own quota again; enforced at once (the next write needs more than the cached space). */
  const restoreQuota = () => override();
  const counts = async (): Promise<Counts> => {
    const samples = await readTable<{ datasetId: string }>(studio.page, 'samples');
    return {
      datasets: (await readTable<{ id: string }>(studio.page, 'datasets')).map((d) => d.id).sort(),
      samples: samples.length,
      staged: samples.filter((s) => s.datasetId.startsWith('staging:')).length,
    };
  };

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'loupe-quota-'));
    const rows = Array.from({ length: 3000 }, (_, i) => `customer message ${i} about the ${['awful', 'okay', 'great'][i % 3]} service today,${i % 3}`);
    writeFileSync(join(folder, 'big-tweets.csv'), `text,label\n${rows.join('\n')}\n`);
    studio = await openStudio();
    await studio.goto('datasets');
    // Installed first: a service worker still precaching when the quota drops fails to install (and
    // retries on the next load), which is not what these tests are about.
    await waitForServiceWorker(studio.page);
    await seedPhrases(studio, DATASET, 'phrases');
    cdp = await studio.page.context().newCDPSession(studio.page);
    origin = new URL(studio.baseUrl).origin;
  });
  afterAll(async () => {
    await studio?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('an import that runs out of quota midway says storage is full, stores nothing of it, keeps the earlier dataset, and succeeds once space is back', async () => {
    const { page } = studio;
    await studio.goto('datasets');
    const before = await counts();
    expect(before).toEqual({ datasets: [DATASET], samples: 90, staged: 0 });
    await page.getByLabel('Task').selectOption('sentiment');
    await page.getByLabel('Files or zip').setInputFiles(join(folder, 'big-tweets.csv'));
    // Room for a few 32-row chunks of the ~3000 rows, not for all of them: the quota runs out mid-import.
    await lowerQuota(60_000);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Import failed' });
    await expect(alert.textContent({ timeout: 60_000 })).resolves.toMatch(
      /Import failed: Storage is full: dataset "big-tweets\.csv" could not be saved\. Nothing was half-written and the data saved earlier is intact\. Free space by deleting old runs, dataset versions or models/,
    );
    await studio.screenshot('reliability-storage-import-full');
    await expect.poll(counts).toEqual(before); // no version, no staged rows; the earlier dataset is whole
    await page.locator('table[aria-label="Datasets"]').getByText('phrases').waitFor();

    await restoreQuota();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-result');
    await expect(result.textContent({ timeout: 120_000 })).resolves.toMatch(/Stored big-tweets\.csv — version [0-9a-f]{12}, 3000 samples, 0 skipped/);
    const after = await counts();
    expect(after.datasets).toHaveLength(2);
    expect(after.samples).toBe(90 + 3000);
    expect(after.staged).toBe(0);
  }, 300_000);

  it('a checkpoint that does not fit fails the run with the reason, keeps the earlier checkpoint, and the run resumes to completion once space is back', async () => {
    const { page } = studio;
    await studio.goto('train');
    await page.getByLabel('Task').selectOption('text-classification');
    await page.getByLabel('Dataset version').selectOption(DATASET);
    await page.getByLabel('Text model').selectOption('fasttext');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill('6');
    await page.getByLabel('Batch size').fill('16');
    await page.getByLabel('Learning rate').fill('0.05');
    await page.getByLabel('Early stopping on val accuracy').uncheck();
    await page.getByLabel('Run name').fill('quota run');
    // A checkpoint of this fastText model (65,536 hashed buckets × 8, with Adam's two moments) is ~6.3 MB:
    // epoch 1's fits in 9.5 MB; a later one (written before the previous one is dropped, in one
    // transaction) does not — epoch 2's, or a later one's while Chromium is still freeing the files of
    // dropped checkpoints.
    await lowerQuota(9_500_000);
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="train-state"]')?.textContent === 'failed', undefined, { timeout: 120_000 });
    const error = (await page.locator('p.error[role="alert"]').textContent()) ?? '';
    expect(error).toMatch(/^Storage is full: the checkpoint of epoch \d could not be saved\. Nothing was half-written and the data saved earlier is intact\..* Resume continues after epoch \d\.$/);
    const refused = Number(/checkpoint of epoch (\d)/.exec(error)![1]);
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(error).toContain(`Resume continues after epoch ${refused - 1}.`);
    const offer = page.getByRole('status').filter({ hasText: 'quota run — Storage is full' });
    await offer.waitFor();
    await studio.screenshot('reliability-storage-checkpoint-full');

    const runs = await readTable<{ id: string; name: string; status: string; resumable?: boolean; failureReason?: string }>(page, 'runs');
    const run = runs.find((r) => r.name === 'quota run')!;
    expect(run).toMatchObject({ status: 'failed', resumable: true, failureReason: error });
    const checkpoints = (await readTable<{ runId: string; epoch: number }>(page, 'checkpoints')).filter((c) => c.runId === run.id);
    expect(checkpoints.map((c) => c.epoch)).toEqual([refused - 1]); // the run points at no checkpoint that was not saved

    await restoreQuota();
    await offer.getByRole('button', { name: 'Resume' }).click();
    await waitForTrainingDone(page, 180_000);
    const done = (await readTable<{ id: string; status: string; resumable?: boolean }>(page, 'runs')).find((r) => r.id === run.id);
    expect(done).toMatchObject({ status: 'completed', resumable: false });
  }, 300_000);

  it('inference log writes that do not fit: requests are still answered, the user is told, earlier rows stay, and the held rows are written once space is back', async () => {
    const { page } = studio;
    await registerRun(page, 'quota run', 1, 'sentiment');
    await studio.goto('registry/sentiment');
    await openGate(page, 1, DATASET, 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });

    const predict = (n: number, offset: number) =>
      page.evaluate(
        async ({ n, offset }) => {
          const statuses: number[] = [];
          for (let i = 0; i < n; i++) {
            const response = await fetch(new URL('api/predict', document.baseURI), {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ text: `request ${offset + i}: the service was great` }),
            });
            statuses.push(response.status);
          }
          return statuses;
        },
        { n, offset },
      );
    const logged = async () => (await readTable<{ source: string }>(page, 'inferenceLog')).filter((r) => r.source === 'rest').length;

    expect(await predict(10, 0)).toEqual(Array(10).fill(200));
    await expect.poll(logged, { timeout: 15_000 }).toBe(10);

    await lowerQuota(0); // not one byte more
    expect(await predict(10, 10)).toEqual(Array(10).fill(200)); // serving does not depend on the log
    const toast = page.getByRole('alert').filter({ hasText: 'prediction(s) for the inference log' });
    await expect(toast.first().textContent({ timeout: 15_000 })).resolves.toMatch(
      /^Storage is full: \d+ prediction\(s\) for the inference log could not be saved\. .*; they wait in this tab and are written once there is space\./,
    );
    await studio.screenshot('reliability-storage-log-full');
    expect(await logged()).toBe(10); // the earlier rows are intact, none half-written

    await restoreQuota();
    await expect.poll(logged, { timeout: 30_000 }).toBe(20); // nothing answered was lost
    expect(await predict(5, 20)).toEqual(Array(5).fill(200));
    await expect.poll(logged, { timeout: 15_000 }).toBe(25);

    // Everything stored before the quota ran out still reads back.
    await studio.goto('runs');
    await expect(page.locator('tr', { hasText: 'quota run' }).locator('.badge').textContent()).resolves.toBe('completed');
    await studio.goto('datasets');
    await expect.poll(() => page.locator('table[aria-label="Datasets"] tbody tr').count()).toBe(2);
    expect(studio.errors).toEqual([]);
  }, 300_000);
});

describe('training faults', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    await seedPhrases(studio, 'e2e-faults', 'phrases');
  });
  afterAll(async () => studio?.close());

  /** Fills the Train form for a fastText run and starts it; resolves with the trainer worker. */
  async function startRun(name: string, epochs: number, batchSize: number): Promise<Worker> {
    const { page } = studio;
    await studio.goto('train');
    await page.getByLabel('Text model').selectOption('fasttext');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill(String(epochs));
    await page.getByLabel('Batch size').fill(String(batchSize));
    await page.getByLabel('Early stopping on val accuracy').uncheck();
    await page.getByLabel('Run name').fill(name);
    const running = page.workers().find((w) => w.url().includes('trainer'));
    const trainer = running ? Promise.resolve(running) : page.waitForEvent('worker', (w) => w.url().includes('trainer'));
    await page.getByRole('button', { name: 'Start training' }).click();
    return trainer;
  }
  const atEpoch = (pattern: string) =>
    studio.page.waitForFunction((p) => new RegExp(p).test(document.querySelector('[aria-label="Training progress"]')?.textContent ?? ''), pattern, { timeout: 120_000 });
  /** The epochs a run's validation loss was recorded for, as stored. */
  const recordedEpochs = async (runId: string) =>
    (await readTable<{ runId: string; name: string; epoch: number }>(studio.page, 'metricPoints'))
      .filter((p) => p.runId === runId && p.name === 'val_loss')
      .map((p) => p.epoch)
      .sort((a, b) => a - b);
  const runNamed = async (name: string) => (await readTable<RunRecord>(studio.page, 'runs')).find((r) => r.name === name)!;

  it('a trainer worker killed mid-epoch: the error shows, the run is offered for resume at once (no reload), and it finishes from its checkpoint', async () => {
    const { page } = studio;
    const trainer = await startRun('crashed run', 20, 4);
    await atEpoch('epoch ([3-9]|1[0-5])/20');
    await trainer.evaluate(() =>
      setTimeout(() => {
        throw new Error('simulated crash');
      }),
    );
    await expect(page.locator('p.error[role="alert"]').textContent({ timeout: 30_000 })).resolves.toMatch(/The trainer worker stopped unexpectedly: .*simulated crash/);
    const offer = page.getByRole('status').filter({ hasText: 'crashed run — Interrupted: the trainer worker stopped during epoch' });
    await expect(offer.textContent({ timeout: 30_000 })).resolves.toMatch(/Resume continues after epoch \d+/);
    expect(await runNamed('crashed run')).toMatchObject({ status: 'failed', resumable: true });
    await studio.screenshot('reliability-worker-crash-resume');

    await offer.getByRole('button', { name: 'Resume' }).click();
    await waitForTrainingDone(page, 180_000);
    const run = await runNamed('crashed run');
    expect(run).toMatchObject({ status: 'completed', resumable: false });
    expect(await recordedEpochs(run.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1)); // each epoch once
  }, 300_000);

  it('a WebGPU device destroyed mid-run: the run continues from its checkpoint on the next backend that is not a software renderer, and records the move; the next WebGPU run gets a fresh device', async () => {
    const { page } = studio;
    await studio.goto('settings');
    await page.getByLabel('Backend for training and inference').selectOption('webgpu');
    const trainer = await startRun('lost device run', 6, 8);
    await atEpoch('epoch [2-5]/6');
    // The real thing: the worker's GPUDevice is destroyed, as a driver reset or a GPU process crash does;
    // tfjs's next read of a GPU buffer fails with "the device was lost".
    await trainer.evaluate(() => {
      const proto = (self as unknown as { GPUDevice: { prototype: { createCommandEncoder: (...args: unknown[]) => unknown } } }).GPUDevice.prototype;
      const create = proto.createCommandEncoder;
      proto.createCommandEncoder = function (this: { destroy(): void }, ...args: unknown[]) {
        proto.createCommandEncoder = create;
        this.destroy();
        return create.apply(this, args);
      };
    });
    await page.locator('section[aria-label="Training progress"]').getByText(/The webgpu device was lost \(.+\)\. Continuing on wasm\./).waitFor({ timeout: 60_000 });
    await studio.screenshot('reliability-device-lost');
    await waitForTrainingDone(page, 180_000);
    const run = await runNamed('lost device run');
    expect(run).toMatchObject({ status: 'completed', backend: 'wasm', fallbacks: [{ from: 'webgpu', to: 'wasm' }] });
    expect(await recordedEpochs(run.id)).toEqual([1, 2, 3, 4, 5, 6]);
    // The same worker forgot the dead backend: the next run that names WebGPU gets a fresh device.
    await startRun('run after the lost device', 1, 8);
    // The Train page still shows the last run as completed until this one starts: wait for this run's record.
    await expect.poll(async () => (await runNamed('run after the lost device'))?.status, { timeout: 180_000, interval: 500 }).toBe('completed');
    expect(await runNamed('run after the lost device')).toMatchObject({ backend: 'webgpu' });
    expect(studio.errors).toEqual([]);
    await studio.goto('settings');
    await page.getByLabel('Backend for training and inference').selectOption('auto');
  }, 400_000);

  it('a tab closed in the middle of a promotion: the other tab still sees exactly one production version and can promote', async () => {
    const { page } = studio;
    await registerRun(page, 'crashed run', 1, 'sentiment');
    await registerRun(page, 'lost device run', 2, 'sentiment');
    await studio.goto('registry/sentiment');
    await openGate(page, 1, 'e2e-faults', 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });

    // Tab A starts the gate for v2 (it takes the model's lock, then measures both versions in its own
    // trainer worker) and is closed while that runs.
    const tabA = await studio.browser.context.newPage();
    await tabA.goto(`${studio.baseUrl}#/registry/sentiment`);
    await openGate(tabA, 2, 'e2e-faults', 'live');
    await tabA.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await tabA.waitForFunction(async () => (await navigator.locks.query()).held?.some((l) => l.name === 'loupe-registry-sentiment'));
    await tabA.close();

    const production = async () => {
      const versions = await readTable<{ name: string; version: number; status: string }>(page, 'modelVersions');
      const aliases = await readTable<{ name: string; alias: string; version: number }>(page, 'aliases');
      return {
        statuses: versions.filter((v) => v.name === 'sentiment' && v.status === 'production').map((v) => v.version),
        alias: aliases.find((a) => a.name === 'sentiment' && a.alias === 'production')?.version,
      };
    };
    expect(await production()).toEqual({ statuses: [1], alias: 1 });
    // The closed tab's lock went with it: tab B runs the same gate to its end.
    await page.reload();
    await page.locator('main h1').waitFor();
    await openGate(page, 2, 'e2e-faults', 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.locator('.outcome').waitFor({ timeout: 120_000 });
    const after = await production();
    expect(after.statuses).toHaveLength(1);
    expect(after.alias).toBe(after.statuses[0]);
    await studio.screenshot('reliability-promotion-tab-closed');
  }, 300_000);
});
