import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentimentSamples } from './fixtures';
import { openGate, registerRun, trainSentiment } from './flows';
import { openStudio, seedRows, waitForServiceWorker, type Studio } from './harness';

const DATASET = 'e2e-layout-phrases';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** `UPDATE_DOC_SCREENSHOTS=1` also writes the README's screenshots (viewport-sized, so they stay small). */
const DOCS = process.env.UPDATE_DOC_SCREENSHOTS ? join(process.cwd(), 'docs', 'screenshots') : undefined;

/** Every page with data, after the seeding test below. */
const PAGES = ['datasets', `datasets/${DATASET}`, 'runs', 'registry', 'registry/sentiment', 'registry/sentiment/1', 'sweeps', 'pipelines', 'predict', 'predict/log', 'monitor/sentiment', 'train', 'settings'];

/**
 * What scrolls sideways: the page, and any box inside it (a table wider than its card). Names the
 * widest culprits so a failure says where to look.
 */
const sideways = (page: Page) =>
  page.evaluate(() => {
    const found: string[] = [];
    const root = document.scrollingElement!;
    if (root.scrollWidth > window.innerWidth) found.push(`page by ${root.scrollWidth - window.innerWidth}px`);
    for (const box of document.querySelectorAll<HTMLElement>('main *')) {
      const style = getComputedStyle(box);
      if (!['auto', 'scroll'].includes(style.overflowX) || box.closest('pre, textarea, .metrics-box, details:not([open])')) continue;
      if (box.scrollWidth > box.clientWidth + 1) found.push(`${box.tagName.toLowerCase()}.${[...box.classList].join('.')} by ${box.scrollWidth - box.clientWidth}px`);
    }
    return found;
  });

async function dismissToasts(page: Page): Promise<void> {
  const dismiss = page.getByRole('button', { name: 'Dismiss notification' });
  while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 2000 }).catch(() => {});
}

describe('layout', () => {
  let studio: Studio;
  /** The sweep's and the pipeline's own pages (a sweep's trials, a pipeline's runs), found while seeding. */
  const detailPages: string[] = [];
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('train');
    const samples = sentimentSamples(DATASET);
    const splits = { train: samples.filter((s) => s.split === 'train').length, val: samples.filter((s) => s.split === 'val').length };
    await seedRows(studio, { datasets: [{ id: DATASET, name: 'phrases', task: 'text-classification', preset: 'sentiment', createdAt: Date.now(), sampleCount: samples.length, splits }], samples });
  });
  afterAll(async () => studio?.close());

  it('a studio with runs, a sweep, versions, a gate decision, a pipeline run and logged predictions; a gate run leaves the versions list where it was', async () => {
    const { page } = studio;
    await page.setViewportSize(DESKTOP);
    await trainSentiment(studio, { name: 'layout first', epochs: 3, learningRate: 0.05 });
    await trainSentiment(studio, { name: 'layout second', epochs: 4, learningRate: 0.05 });
    await registerRun(page, 'layout first', 1, 'sentiment');
    await registerRun(page, 'layout second', 2, 'sentiment');
    await studio.goto('registry/sentiment');
    await openGate(page, 1, DATASET, 'recorded');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor();
    // The recorded figures are the validation split's, and the list says so.
    const versions = page.getByRole('table', { name: 'Versions of sentiment' });
    await expect(versions.locator('thead').textContent()).resolves.toContain('val accuracy ★');
    await expect(versions.locator('tr[data-version="1"]').textContent()).resolves.toContain('val, 18 samples');

    // The gate measures live on the evaluation set's held-out split (val here: the phrases have no test split).
    await openGate(page, 2, DATASET, 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.locator('.outcome', { hasText: 'Measured now on the val split (18 samples) of phrases.' }).waitFor({ timeout: 60_000 });
    // Nothing scrolled: Version and Status are where they were, Promote… is on screen.
    const box = versions.locator('xpath=..');
    await expect(box.evaluate((e) => e.scrollLeft)).resolves.toBe(0);
    const version = await versions.getByRole('link', { name: 'v2', exact: true }).boundingBox();
    expect(version!.x).toBeGreaterThan(220);
    const promote = await page.getByRole('button', { name: 'Promote v2' }).boundingBox();
    expect(promote!.x + promote!.width).toBeLessThanOrEqual(DESKTOP.width);

    await studio.goto('sweeps/new');
    await page.getByLabel('Task').selectOption('text-classification');
    await page.getByLabel('Dataset version').selectOption(DATASET);
    await page.getByRole('textbox', { name: /^Definition/ }).fill(
      'name: layout grid\ntask: sentiment\nmethod: grid\nmetric: {name: val_accuracy, goal: maximize}\nparameters:\n  learningRate: {values: [0.01, 0.05]}\n  dim: {value: 8}\n  epochs: {value: 1}\n  batchSize: {value: 16}\n',
    );
    await page.getByRole('button', { name: 'Start sweep' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="sweep-status"]')?.textContent === 'completed', undefined, { timeout: 120_000 });
    detailPages.push(page.url().split('#/')[1]!);

    await studio.goto('pipelines');
    await page.getByRole('button', { name: 'New pipeline' }).click();
    const form = page.getByRole('form', { name: 'New pipeline' });
    await form.getByLabel('Task').selectOption('text-classification');
    await form.getByLabel('Model name (registry)').fill('sentiment');
    await form.getByLabel('Pipeline name').fill('Nightly sentiment');
    await form.getByLabel('Base dataset version').selectOption(DATASET);
    await form.getByLabel('Epochs').fill('2');
    await form.getByRole('button', { name: 'Create pipeline' }).click();
    await page.waitForURL(/#\/pipelines\/pl-/);
    detailPages.push(page.url().split('#/')[1]!);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.locator('tr[data-run-id][data-gate]:not([data-gate=""])').waitFor({ timeout: 120_000 });

    await studio.goto('predict');
    await waitForServiceWorker(page);
    const statuses = await page.evaluate(async () => {
      const out: number[] = [];
      for (const text of ['great day at the park', 'the service was awful', 'scheduled update on tuesday', 'love it, honestly wonderful']) {
        const response = await fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
        out.push(response.status);
        await response.text();
      }
      return out;
    });
    expect(statuses).toEqual([200, 200, 200, 200]);
    await studio.goto('predict/log');
    await page.getByTestId('log-row').first().waitFor();
    expect(studio.errors).toEqual([]);
  }, 300_000);

  for (const [size, name] of [[DESKTOP, 'desktop'], [PHONE, 'phone']] as const) {
    it(`every page fits ${size.width}×${size.height}: no sideways scrolling of the page or of a list`, async () => {
      const { page } = studio;
      await page.setViewportSize(size);
      const wide: Record<string, string[]> = {};
      for (const route of [...PAGES, ...detailPages, 'runs compare']) {
        await studio.goto(route.replace(' compare', ''));
        if (route === 'runs compare') {
          await page.getByLabel('Compare layout first').check();
          await page.getByLabel('Compare layout second').check();
          await page.getByRole('region', { name: 'Run comparison' }).waitFor();
        }
        await page.waitForLoadState('networkidle');
        await dismissToasts(page);
        const found = await sideways(page);
        if (found.length) wide[route] = found;
        const file = `layout-${route.replace(/[/ ]/g, '-').replace(/-[0-9a-f-]{20,}$/, '')}-${name}`;
        await studio.screenshot(file);
        if (DOCS && ['datasets', 'runs compare', 'registry/sentiment', 'monitor/sentiment'].includes(route)) {
          mkdirSync(DOCS, { recursive: true });
          await page.screenshot({ path: join(DOCS, `${route.replace(/[/ ]/g, '-')}-${name}.png`) });
        }
      }
      expect(wide).toEqual({});
    }, 120_000);
  }

  it('on a phone, lists are cards of labelled values and the navigation is a menu that opens, closes and takes the keyboard', async () => {
    const { page } = studio;
    await page.setViewportSize(PHONE);
    await studio.goto('runs');
    const list = page.getByRole('table', { name: 'Runs', exact: true });
    const cell = list.locator('tbody tr').first().locator('td').nth(2);
    await expect(cell.evaluate((td) => getComputedStyle(td, '::before').content)).resolves.toBe('"Task"');
    await expect(list.locator('thead').evaluate((e) => e.getBoundingClientRect().height)).resolves.toBeLessThanOrEqual(1);

    const menu = page.getByRole('button', { name: 'Menu' });
    const runs = page.getByRole('navigation', { name: 'Studio' }).getByRole('link', { name: /Pipelines/ });
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => runs.isVisible()).toBe(false);
    await menu.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => runs.isVisible()).toBe(true);
    // Every item is on screen, none cut off.
    for (const link of await page.getByRole('navigation', { name: 'Studio' }).getByRole('link').all()) {
      const bounds = (await link.boundingBox())!;
      expect(bounds.x + bounds.width).toBeLessThanOrEqual(PHONE.width);
    }
    await studio.screenshot('layout-menu-phone');
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent?.trim())).toMatch(/Datasets$/);
    await page.keyboard.press('Escape');
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('menu-toggle');
    await menu.click();
    await runs.click();
    await page.waitForURL(/#\/pipelines$/);
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');

    // The dark theme, at both sizes.
    await menu.click();
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    for (const [size, name] of [[PHONE, 'phone'], [DESKTOP, 'desktop']] as const) {
      await page.setViewportSize(size);
      for (const route of ['registry/sentiment', 'runs']) {
        await studio.goto(route);
        await dismissToasts(page);
        await studio.screenshot(`layout-${route.replaceAll('/', '-')}-${name}-dark`);
        if (DOCS && route === 'registry/sentiment') await page.screenshot({ path: join(DOCS, `registry-sentiment-${name}-dark.png`) });
      }
    }
    expect(studio.errors).toEqual([]);
  });
});
