import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/ui/routes';
import type { Page } from 'playwright-core';
import { openStudio, waitForServiceWorker, type Studio } from './harness';

/** What Settings shows for the GPU backends once the inference worker's probe answered: status and device. */
async function gpuBackendRows(page: Page): Promise<Record<string, { status: string | null; device: string | null }>> {
  const rows: Record<string, { status: string | null; device: string | null }> = {};
  for (const backend of ['webgpu', 'webgl']) {
    const row = page.locator(`tr[data-backend="${backend}"]`);
    await row.waitFor({ timeout: 120_000 });
    rows[backend] = { status: await row.locator('.badge').textContent(), device: await row.locator('td.detail').textContent() };
  }
  return rows;
}

describe('studio shell', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await openStudio();
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('renders every page with its heading and no console errors', async () => {
    for (const route of ROUTES) {
      await studio.goto(route.path);
      await expect(studio.page.locator('main h1').first().textContent()).resolves.toBe(route.title);
      const current = studio.page.locator('nav[aria-label="Studio"] a[aria-current="page"]');
      await expect(current.textContent()).resolves.toContain(route.title);
      await studio.page.waitForLoadState('networkidle');
      await studio.screenshot(`page-${route.path}`);
    }
    expect(studio.errors).toEqual([]);
  });

  it('navigates with the keyboard alone', async () => {
    await studio.goto('datasets');
    await studio.page.locator('nav a[href="#/runs"]').focus();
    await studio.page.keyboard.press('Enter');
    await studio.page.waitForURL(/#\/runs$/);
    await expect(studio.page.locator('main h1').textContent()).resolves.toBe('Runs');
  });

  it('switches between light and dark themes and remembers the choice', async () => {
    await studio.goto('settings');
    const themeOf = () => studio.page.evaluate(() => document.documentElement.dataset.theme);
    const before = await themeOf();
    await studio.page.getByRole('button', { name: /switch to (light|dark) theme/i }).click();
    const after = await themeOf();
    expect(after).not.toBe(before);
    await studio.page.reload();
    await studio.page.locator('main h1').waitFor();
    await expect(themeOf()).resolves.toBe(after);
    await studio.screenshot(`theme-${after}`);
  });

  it('shows an unknown address as a notice, not a blank page', async () => {
    await studio.page.goto(`${studio.baseUrl}#/no-such-page`);
    await expect.poll(() => studio.page.getByRole('status').filter({ hasText: 'not a page of Loupe' }).count()).toBe(1);
    await expect(studio.page.locator('main h1').textContent()).resolves.toBe('Datasets');
  });

  it('keeps working offline after one online visit', async () => {
    await studio.goto('settings');
    const online = await gpuBackendRows(studio.page);
    await waitForServiceWorker(studio.page);
    await studio.stopServer();
    try {
      await studio.page.reload();
      await studio.page.locator('main h1').waitFor();
      // Away and back while the reloaded Settings still probes its backends, as a user clicking through does:
      // each visit starts a probe in the inference worker, and they overlap.
      for (let visit = 0; visit < 3; visit++) {
        await studio.goto('runs');
        await expect(studio.page.locator('main h1').textContent()).resolves.toBe('Runs');
        await studio.goto('settings');
      }
      // Workers load from the precache too: the trainer runs a real training check offline.
      await studio.page.getByRole('button', { name: 'Run a training check' }).click();
      await expect(studio.page.getByTestId('training-check').textContent({ timeout: 120_000 })).resolves.toContain('passed');
      // The service worker serves the app cross-origin isolated, so tfjs's threaded WebAssembly build runs,
      // and Loupe's SIMD kernels on its shared memory, in the trainer on a thread per logical core (at most 8:
      // a helper thread per further core, Blob workers, offline too), XNNPACK on the trainer's own thread.
      const { isolated, cores } = await studio.page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
      expect(isolated).toBe(true);
      const threads = Math.min(cores, 8);
      await expect(studio.page.getByTestId('training-check').textContent()).resolves.toContain(
        threads > 1 ? `WebAssembly (SIMD, Loupe kernels on ${threads} threads, XNNPACK on 1 thread)` : 'WebAssembly (SIMD, Loupe kernels, 1 thread)',
      );
      // Offline, Settings lists the GPU backends as they were online in this run (available, on the same device,
      // where this browser has them), not as failed.
      await expect(gpuBackendRows(studio.page)).resolves.toEqual(online);
      await studio.screenshot('offline-settings');
    } finally {
      await studio.startServer();
    }
  });
});
