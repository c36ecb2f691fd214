import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTorch, readPretrained } from '../fixtures/pretrained';
import { registerRun, seedPhotos, waitForTrainingDone } from './flows';
import { openStudio, type Studio } from './harness';

const HUB_ID = 'loupe-test/mobilenetv3-small';

/**
 * The test's own hub on a loopback port: serves the timm-named fixture as `<id>/resolve/main/model.safetensors`,
 * in slices with pauses, so the download's progress is there to see.
 */
function startHub(bytes: Uint8Array): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url !== `/${HUB_ID}/resolve/main/model.safetensors`) {
      response.writeHead(404, { 'access-control-allow-origin': '*' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength), 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' });
    let offset = 0;
    const slice = 256 * 1024;
    const next = () => {
      if (offset >= bytes.byteLength) return void response.end();
      response.write(bytes.subarray(offset, offset + slice));
      offset += slice;
      setTimeout(next, 40);
    };
    next();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests })));
}

describe.skipIf(!hasTorch)('fine-tuning from hub weights', () => {
  let studio: Studio;
  let hub: Awaited<ReturnType<typeof startHub>>;
  const weights = hasTorch ? readPretrained('timm') : new Uint8Array();

  beforeAll(async () => {
    hub = await startHub(weights);
    studio = await openStudio();
    await studio.goto('train');
    await seedPhotos(studio, { id: 'e2e-photos', name: 'photos', count: 8, val: 2, offset: 10 });
  });
  afterAll(async () => {
    await studio?.close();
    if (hub?.server.listening) hub.server.close();
  });

  it('previews augmentation, downloads the checkpoint with progress, trains an epoch on it (BatchNorm statistics recomputed, as the run page records); with the hub gone, trains again from the kept file; both versions name it', async () => {
    const { page } = studio;
    await studio.goto('settings');
    const section = page.getByRole('region', { name: 'Pretrained image weights' });
    await section.getByLabel('Hub host').fill(hub.url);
    await section.getByRole('button', { name: 'Save' }).click();
    await page.getByText('New downloads of pretrained weights use this host.').waitFor();

    await studio.goto('train');
    // Recomputing BatchNorm statistics is offered for models that have BatchNorm: not a text model.
    const recompute = page.getByRole('checkbox', { name: 'Recompute BatchNorm statistics after training' });
    await page.getByLabel('Task').selectOption('text-classification');
    await expect(page.getByLabel('Text model').count()).resolves.toBe(1);
    await expect(recompute.count()).resolves.toBe(0);
    await page.getByLabel('Task').selectOption('image-classification');
    await page.getByLabel('Input size').selectOption('64');
    await page.getByLabel('Epochs', { exact: true }).fill('1');
    await page.getByLabel('Batch size').fill('6');
    await page.getByTestId('init-kind').selectOption('hub');
    await page.getByLabel('Hub model id').fill(HUB_ID);
    await page.getByLabel('Frozen epochs').fill('1');
    await page.getByLabel('Run name').fill('e2e hub start');
    // Off by default, with its hint; turned on from the keyboard.
    await expect(recompute.isChecked()).resolves.toBe(false);
    await expect(page.locator(`#${await recompute.getAttribute('aria-describedby')}`).textContent()).resolves.toMatch(/^\s*Helps short runs \(few steps\)/);
    await recompute.focus();
    await page.keyboard.press('Space');
    await expect(recompute.isChecked()).resolves.toBe(true);
    // The augmentation preview: the first batch's six training photos, as the settings and seed make them.
    await page.getByRole('button', { name: 'Preview augmented samples' }).click();
    await page.getByText("The first 6 photos of epoch 1's first batch, seed 42, as the model will see them.").waitFor();
    await expect.poll(() => page.getByTestId('augmentation-preview').getByRole('img').count()).toBe(6);
    await page.getByRole('button', { name: 'Start training' }).click();

    const download = page.getByTestId('weights-download');
    await download.waitFor();
    await expect(download.textContent()).resolves.toMatch(new RegExp(`downloading ${HUB_ID}: [\\d.]+ (B|KiB|MiB) of 9\\.77 MiB`));
    await waitForTrainingDone(page, 180_000, 'e2e hub start');
    expect(hub.requests).toEqual([`/${HUB_ID}/resolve/main/model.safetensors`]);

    await registerRun(page, 'e2e hub start', 1, 'photos');
    const sha256 = createHash('sha256').update(weights).digest('hex');
    const first = page.getByTestId('first-weights');
    await expect(first.textContent()).resolves.toContain(`hub ${HUB_ID} (model.safetensors from ${hub.url}, timm naming, sha256 ${sha256})`);

    // The run's page lists the choice with its parameters.
    await studio.goto('runs');
    await page.getByRole('link', { name: 'e2e hub start' }).click();
    const recorded = page.getByRole('table', { name: 'Parameters' }).getByRole('row', { name: /^recomputeBatchNorm/ });
    await expect(recorded.textContent()).resolves.toBe('recomputeBatchNormtrue');

    await studio.goto('settings');
    const stored = page.getByRole('table', { name: 'Stored weight files' }).locator('tr', { hasText: `hub:${HUB_ID}/model.safetensors` });
    await expect(stored.textContent()).resolves.toMatch(/9\.77 MiB/);

    // Offline: the hub is gone; after a reload the same start trains from the file kept in the browser.
    hub.server.closeAllConnections();
    await new Promise((resolve) => hub.server.close(resolve));
    await page.reload();
    await page.locator('main h1').waitFor();
    await studio.goto('train');
    await page.getByLabel('Task').selectOption('image-classification');
    await page.getByLabel('Input size').selectOption('64');
    await page.getByLabel('Epochs', { exact: true }).fill('1');
    await page.getByLabel('Batch size').fill('6');
    await page.getByTestId('init-kind').selectOption('hub');
    await page.getByLabel('Hub model id').fill(HUB_ID);
    await page.getByLabel('Run name').fill('e2e hub offline');
    await page.getByRole('button', { name: 'Start training' }).click();
    await waitForTrainingDone(page, 180_000, 'e2e hub offline');
    expect(hub.requests).toHaveLength(1);
    await registerRun(page, 'e2e hub offline', 2, 'photos');
    await expect(page.getByTestId('first-weights').textContent()).resolves.toContain(`hub ${HUB_ID} (model.safetensors from ${hub.url}, timm naming, sha256 ${sha256})`);

    // The proposal follows the start: a registered version trains on at the run's rate, ImageNet weights
    // start frozen and slowed, with cosine decay.
    await studio.goto('train');
    await page.getByLabel('Task').selectOption('image-classification');
    const proposal = async () => [await page.getByLabel('Frozen epochs').inputValue(), await page.getByLabel('Backbone LR ×').inputValue(), await page.getByLabel('Cosine decay').isChecked()];
    await page.getByTestId('init-kind').selectOption('version');
    await expect(page.getByRole('combobox', { name: /^Version/ }).locator('option:checked').textContent()).resolves.toMatch(/photos v2/);
    await expect(proposal()).resolves.toEqual(['0', '1', false]);
    await page.getByTestId('init-kind').selectOption('hub');
    await expect(proposal()).resolves.toEqual(['2', '0.1', true]);
    expect(studio.errors).toEqual([]);
  }, 420_000);
});
