import { afterEach, describe, expect, it } from 'vitest';
import { openStudio, type Studio } from './harness';

describe('settings', () => {
  let studio: Studio | undefined;
  afterEach(async () => {
    await studio?.close();
    studio = undefined;
  });

  it('lists WebGPU as available with its adapter, and shows storage use', async () => {
    studio = await openStudio();
    await studio.goto('settings');
    const webgpu = studio.page.locator('tr[data-backend="webgpu"]');
    await webgpu.waitFor({ timeout: 60_000 });
    await expect(webgpu.locator('.badge').textContent()).resolves.toBe('available');
    await expect(webgpu.locator('td.detail').textContent()).resolves.toMatch(/\w/);
    for (const backend of ['webgl', 'wasm', 'cpu']) {
      await expect(studio.page.locator(`tr[data-backend="${backend}"] .badge`).textContent()).resolves.toBe('available');
    }
    await expect(studio.page.getByTestId('storage-usage').textContent()).resolves.toMatch(/Using .+ of .+ available/);
    await studio.screenshot('settings-backends');
    expect(studio.errors).toEqual([]);
  });

  it('round-trips through the trainer worker with progress, on an explicitly chosen backend', async () => {
    studio = await openStudio();
    await studio.goto('settings');
    await studio.page.getByLabel('Backend for training and inference').selectOption('wasm');
    await studio.page.getByRole('button', { name: 'Run a training check' }).click();
    const result = studio.page.getByTestId('training-check');
    const text = (await result.textContent({ timeout: 120_000 }))?.replace(/\s+/g, ' ');
    // Threaded (the page is cross-origin isolated) with Loupe's SIMD kernels bound to its shared memory.
    expect(text).toMatch(/passed on wasm \(WebAssembly \(SIMD, Loupe kernels(, \d+ threads?| on \d+ threads, XNNPACK on \d+ threads?)\)\): loss [\d.]+ → [\d.]+ in 60 steps, first gradient norm [1-9]/);
  });

  it('turns a worker crash into a visible error instead of a hang', async () => {
    studio = await openStudio();
    await studio.goto('settings');
    const trainerStarted = studio.page.waitForEvent('worker', (w) => w.url().includes('trainer'));
    await studio.page.getByRole('button', { name: 'Run a training check' }).click();
    const trainer = await trainerStarted;
    // An uncaught error inside the worker, as a bug or a lost device would raise.
    await trainer.evaluate(() => setTimeout(() => {
      throw new Error('simulated crash');
    }));
    await expect(studio.page.getByRole('alert').filter({ hasText: 'trainer worker stopped unexpectedly' }).first().textContent())
      .resolves.toContain('simulated crash');
    // The next request starts a fresh worker and succeeds.
    await studio.page.getByRole('button', { name: 'Run a training check' }).click();
    await expect(studio.page.getByTestId('training-check').textContent({ timeout: 120_000 })).resolves.toContain('passed');
    await studio.screenshot('settings-worker-crash');
  });

  it('without IndexedDB or WebGPU, says so and still works in memory', async () => {
    studio = await openStudio();
    await studio.page.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', { value: undefined });
      Object.defineProperty(Navigator.prototype, 'gpu', { value: undefined });
    });
    await studio.page.reload();
    await studio.page.locator('main h1').waitFor();
    const { page } = studio;
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'keeps your work in memory' }).count()).toBe(1);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'no WebGPU' }).count()).toBe(1);
    await studio.goto('runs');
    await expect.poll(() => page.getByText('No runs yet').count()).toBe(1);
    await studio.screenshot('fallback-no-storage');
  });

  it('erases everything only after typed confirmation', async () => {
    studio = await openStudio();
    await studio.goto('settings');
    await studio.page.evaluate(async () => {
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onsuccess = () => {
          const tx = open.result.transaction('settings', 'readwrite');
          tx.objectStore('settings').put({ key: 'marker', value: 1 });
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
      });
    });
    await studio.page.getByRole('button', { name: 'Erase everything…' }).click();
    const confirm = studio.page.getByRole('dialog').getByRole('button', { name: 'Erase everything' });
    await expect.poll(() => confirm.isDisabled()).toBe(true);
    await studio.page.getByRole('dialog').getByRole('textbox').fill('erase');
    await confirm.click();
    await studio.page.getByRole('status').filter({ hasText: 'Everything was erased' }).waitFor();
    const remaining = await studio.page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const open = indexedDB.open('loupe');
          open.onsuccess = () => {
            const request = open.result.transaction('settings').objectStore('settings').count();
            request.onsuccess = () => resolve(request.result);
          };
        }),
    );
    expect(remaining).toBe(0);
  });
});
