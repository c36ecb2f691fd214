import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/ui/routes';
import { waitForTrainingDone } from './flows';
import { openStudio, waitForServiceWorker, type Studio } from './harness';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface FocusStop {
  reached: boolean;
  visible: boolean;
  what: string;
}

/**
 * Presses Tab (and nothing else) until `target` has focus, checking that every element focus passes
 * through shows a visible focus ring.
 */
async function tabTo(page: Page, target: Locator, maxStops = 200): Promise<void> {
  const handle = await target.elementHandle({ timeout: 60_000 });
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const stop: FocusStop = await page.evaluate((el) => {
      const active = document.activeElement as HTMLElement | null;
      if (!active || active === document.body) return { reached: false, visible: true, what: 'body' };
      const style = getComputedStyle(active);
      const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      return { reached: active === el, visible: active.matches(':focus-visible') && ring, what: active.outerHTML.slice(0, 160) };
    }, handle);
    expect(stop.visible, `no visible focus on ${stop.what}`).toBe(true);
    if (stop.reached) return;
  }
  throw new Error(`${maxStops} presses of Tab never reached ${target.toString()}`);
}

/** Replaces the focused field's text by typing, as a keyboard user does. */
async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
  await tabTo(page, field);
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

/** Follows a navigation link with the keyboard and waits for the page's heading. */
async function navigate(page: Page, route: string, title: string): Promise<void> {
  await tabTo(page, page.locator(`nav[aria-label="Studio"] a[href="#/${route}"]`));
  await page.keyboard.press('Enter');
  await page.locator('main h1', { hasText: title }).waitFor();
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the app's Content-Security-Policy does not block it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  // Colours as the user settles on them: a theme switch fades button backgrounds for 0.15 s, and a
  // contrast measured mid-fade (dark text colour, light background) is not what anyone reads.
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('the main loop with the keyboard alone, and every page against axe-core', () => {
  let studio: Studio;
  let page: Page;

  beforeAll(async () => {
    studio = await openStudio();
    page = studio.page;
    await page.locator('main h1').waitFor();
  });
  afterAll(async () => studio?.close());

  it('loads demo data, trains, registers, promotes and predicts with the keyboard, focus visible throughout', async () => {
    await tabTo(page, page.getByRole('button', { name: 'Load demo data' }));
    await page.keyboard.press('Enter');
    await page.getByText(/^Demo data: 3 installed/).waitFor({ timeout: 170_000 });

    await navigate(page, 'train', 'Train');
    const form = page.getByRole('form', { name: 'Training configuration' });
    await expect(form.getByLabel('Dataset version').locator('option:checked').textContent()).resolves.toMatch(/^Demo tweets/);
    // The tweets are sentiment data, so the form starts on the sentiment preset's model, fastText with
    // lexicon features (on 120 training tweets it clears the gate's accuracy bar, 0.5), not NB-SVM.
    await expect.poll(() => form.getByLabel('Text model').inputValue()).toBe('lexicon-fasttext');
    await tabTo(page, form.getByLabel('Text model'));
    await typeInto(page, form.getByLabel('Embedding width'), '16');
    await typeInto(page, form.getByLabel('Learning rate'), '0.05');
    await typeInto(page, form.getByLabel('Run name'), 'keyboard run');
    await tabTo(page, form.getByRole('button', { name: 'Start training' }));
    await page.keyboard.press('Enter');
    await waitForTrainingDone(page, 120_000, 'keyboard run');

    await navigate(page, 'registry', 'Registry');
    const register = page.getByRole('form', { name: 'Register a run' });
    await tabTo(page, register.getByLabel('Completed run'));
    await page.keyboard.press('ArrowDown');
    await expect(register.getByLabel('Completed run').locator('option:checked').textContent()).resolves.toMatch(/^keyboard run/);
    await tabTo(page, register.getByRole('button', { name: 'Register version' }));
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/registry\/sentiment\/1$/);

    await tabTo(page, page.getByRole('button', { name: 'Promote…' }));
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await tabTo(page, dialog.getByRole('button', { name: 'Run the gate' }));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#version-title').textContent(), { timeout: 60_000 }).toMatch(/production/);

    await navigate(page, 'predict', 'Predict');
    await typeInto(page, page.getByRole('textbox').first(), 'I love this, what a wonderful day!');
    await tabTo(page, page.getByRole('button', { name: 'Predict', exact: true }));
    await page.keyboard.press('Enter');
    const result = page.getByTestId('prediction');
    await expect(result.getByTestId('answered-by').textContent({ timeout: 60_000 })).resolves.toMatch(/Answered by sentiment v1/);
    await studio.screenshot('keyboard-main-loop');
    expect(studio.errors).toEqual([]);
  });

  it('defaults the import form and the quick-train sizes to the data present', async () => {
    for (const [name, task, unit] of [
      ['Demo coins (synthetic)', /^Coin minting year/, 'e.g. my coins'],
      ['Demo tweets (hand-written)', /^Sentiment/, 'e.g. my texts'],
    ] as const) {
      await studio.goto('datasets');
      await page.getByRole('link', { name }).click();
      const panel = page.getByRole('region', { name: 'Import data' });
      await expect.poll(() => panel.getByLabel('Task').locator('option:checked').textContent()).toMatch(task);
      await expect(panel.getByLabel('Dataset name').getAttribute('placeholder')).resolves.toBe(unit);
    }
    await studio.goto('settings');
    const tweets = (await page.evaluate(async () => {
      const open = indexedDB.open('loupe');
      const db = await new Promise<IDBDatabase>((resolve) => (open.onsuccess = () => resolve(open.result)));
      const rows = await new Promise<{ demo?: string; splits: Record<string, number> }[]>((resolve) => {
        const request = db.transaction('datasets').objectStore('datasets').getAll();
        request.onsuccess = () => resolve(request.result);
      });
      db.close();
      return rows.find((r) => r.demo === 'tweets')!.splits;
    })) as Record<string, number>;
    await expect.poll(() => page.getByLabel('Train size').inputValue()).toBe(String(tweets.train));
    await expect(page.getByLabel('Eval size').inputValue()).resolves.toBe(String(tweets.val));
    await expect(page.getByTestId('subset-note').textContent()).resolves.toContain(`sizes clamped to ${tweets.train} train / ${tweets.val} eval`);
  });

  it('shows dates in one format with the ISO instant on hover', async () => {
    const format = (iso: string | null) => page.evaluate((at) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(at!)), iso);
    await studio.goto('runs');
    const runTime = page.locator('main table time').first();
    const [runText, runIso] = [await runTime.textContent(), await runTime.getAttribute('datetime')];
    expect(await runTime.getAttribute('title')).toBe(runIso);
    expect(runText).toBe(await format(runIso));
    // The inference log once had its own short format ("12/6/26, 2:23:43 PM"): now the same one.
    await studio.goto('predict/log');
    const logTime = page.locator('main table time').first();
    const logIso = await logTime.getAttribute('datetime');
    expect(await logTime.textContent()).toBe(await format(logIso));
  });

  it('has no serious or critical axe-core violations on any page, light or dark, with data present', async () => {
    const pages = [...ROUTES.map((r) => r.path), 'predict/log', 'predict/api', 'registry/sentiment/1'];
    const found: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) {
        await page.getByRole('button', { name: `Switch to ${theme} theme` }).click();
      }
      for (const path of pages) {
        await studio.goto(path);
        await page.waitForLoadState('networkidle');
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
        for (const v of await seriousViolations(page)) found.push(`${theme} #/${path}: ${v}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('serves files and unknown paths sensibly once the service worker controls the page', async () => {
    await waitForServiceWorker(page);
    await page.goto(`${studio.baseUrl}THIRD-PARTY-NOTICES.txt`);
    await expect(page.locator('body').textContent()).resolves.toMatch(/license/i);
    await expect(page.locator('main h1').count()).resolves.toBe(0);

    await studio.goto('predict/api');
    const link = page.getByRole('link', { name: /API reference/ });
    const href = await link.getAttribute('href');
    await page.goto(new URL(href!, page.url()).href);
    await expect(page.locator('body').textContent()).resolves.toContain('# Loupe serving API');

    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${studio.baseUrl}some/random/path`);
    await page.locator('main h1').waitFor();
    expect(new URL(page.url()).pathname).toBe(new URL(studio.baseUrl).pathname);
    expect(failed).toEqual([]);
  });
});
