import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src/lib/datasets/png';
import { openStudio, type Studio } from './harness';

/** A striped RGB PNG, larger than the stored size so the worker's canvas resize runs. */
function photo(seed: number, width = 320, height = 240): Uint8Array {
  return encodePng({ width, height, channels: 3, data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * seed + (i >> 9)) % 251) });
}

/**
 * A coin upload on disk: a manifest and four pairs, one with a truncated (corrupt) front, plus a row
 * whose back image is missing. Three coins are valid.
 */
function coinFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'loupe-coins-'));
  const dir = join(root, 'my-coins');
  mkdirSync(join(dir, 'img'), { recursive: true });
  const rows = ['front,back,year'];
  ['a', 'b', 'c', 'd'].forEach((name, i) => {
    writeFileSync(join(dir, 'img', `${name}_front.png`), name === 'd' ? photo(i + 3).slice(0, 400) : photo(i + 3));
    writeFileSync(join(dir, 'img', `${name}_back.png`), photo(i + 11));
    rows.push(`img/${name}_front.png,img/${name}_back.png,${1880 + i * 40}`);
  });
  writeFileSync(join(dir, 'img', 'e_front.png'), photo(40));
  rows.push('img/e_front.png,img/e_back.png,1999');
  writeFileSync(join(dir, 'manifest.csv'), rows.join('\n'));
  return dir;
}

describe('datasets page', () => {
  let studio: Studio;
  let folder: string;
  beforeAll(async () => {
    folder = coinFolder();
    studio = await openStudio();
    await studio.goto('datasets');
  });
  afterAll(async () => {
    await studio?.close();
    if (folder) rmSync(join(folder, '..'), { recursive: true, force: true });
  });

  it('imports a folder: skips the corrupt image and the missing pair with reasons, stores the rest, renders EDA, survives a reload', async () => {
    const { page } = studio;
    await page.getByRole('heading', { name: 'No datasets yet' }).waitFor();
    await page.getByLabel('Task').selectOption('coin-year');
    await page.locator('input[type=file][webkitdirectory]').setInputFiles(folder);
    await expect(page.getByTestId('chosen-files').textContent()).resolves.toMatch(/^10 files/);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-result');
    await result.waitFor({ timeout: 60_000 });
    await expect(result.textContent()).resolves.toMatch(/Stored my-coins — version [0-9a-f]{12}, 3 samples, 2 skipped/);

    const report = page.getByTestId('validation-report').first();
    const rows = report.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const text = (await rows.allTextContents()).join('\n');
    expect(text).toMatch(/manifest\.csv row 6.*missing pair partner: back image "img\/e_back\.png" is not in the upload/);
    expect(text).toMatch(/manifest\.csv row 5 .*front image my-coins\/img\/d_front\.png: corrupt PNG/);
    await studio.screenshot('datasets-import-report');

    await result.getByRole('link', { name: 'my-coins' }).click();
    const eda = page.getByTestId('eda');
    await eda.waitFor();
    await eda.getByRole('img', { name: /Year histogram/ }).waitFor();
    await expect(eda.getByRole('img', { name: /Image size/ }).getAttribute('aria-label')).resolves.toMatch(/256 px 6/); // 3 pairs, resized to 256 px
    const fronts = page.getByRole('img', { name: /^front of my-coins\/img\/[abc]_front\.png/ });
    await expect.poll(() => fronts.count()).toBe(3);
    await page.waitForFunction(() => [...document.querySelectorAll('main img[alt^="front of"], main img[alt^="back of"]')].every((i) => (i as HTMLImageElement).naturalWidth === 256));
    await studio.screenshot('datasets-detail');

    await page.reload();
    await page.getByTestId('eda').waitFor();
    await expect.poll(() => page.locator('table[aria-label="Datasets"] tbody tr').count()).toBe(1);
    await expect.poll(() => page.getByRole('heading', { name: 'my-coins' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('table', { name: 'Skipped at import' }).locator('tbody tr').count()).toBe(2);
    expect(studio.errors).toEqual([]);
  });

  it('imports a zip dropped on the page: one folder per class, with a non-image and an empty file skipped', async () => {
    const { page } = studio;
    await studio.goto('datasets');
    await page.getByLabel('Task').selectOption('car-damage');
    const zip = zipSync({
      'my-cars/minor/a.png': photo(3),
      'my-cars/minor/b.png': photo(4),
      'my-cars/moderate/c.png': photo(5),
      'my-cars/major/d.png': photo(6),
      'my-cars/major/notes.png': new TextEncoder().encode('not an image at all'),
      'my-cars/major/empty.png': new Uint8Array(0),
    });
    // A synthetic drop carries files only (Chromium gives no folder entries to scripts), which is how a zip arrives.
    const transfer = await page.evaluateHandle((bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'my-cars.zip', { type: 'application/zip' }));
      return data;
    }, [...zip]);
    const dropZone = page.getByRole('group', { name: /drop files, folders or a zip here/ });
    await dropZone.dispatchEvent('dragover', { dataTransfer: transfer });
    await dropZone.dispatchEvent('drop', { dataTransfer: transfer });
    await expect.poll(() => page.getByTestId('chosen-files').textContent()).toMatch(/^1 file/);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-result');
    await expect.poll(() => result.textContent(), { timeout: 60_000 }).toMatch(/Stored .* 4 samples, 2 skipped/);
    const skipped = (await page.getByTestId('validation-report').first().locator('tbody tr').allTextContents()).join('\n');
    expect(skipped).toMatch(/notes\.png.*(not an image|unreadable|corrupt)/i);
    expect(skipped).toMatch(/empty\.png.*(zero|empty|0 bytes)/i);
    await studio.screenshot('datasets-drop-zip');
    expect(studio.errors).toEqual([]);
  });

  it('loads the three synthetic demo datasets in the worker', async () => {
    const { page } = studio;
    await studio.goto('datasets');
    await page.getByRole('button', { name: 'Load demo data' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Datasets"] tbody tr').length === 5, undefined, { timeout: 170_000 });
    const names = await page.locator('table[aria-label="Datasets"] tbody tr td:first-child a').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['Demo coins (synthetic)', 'Demo car damage (synthetic)', 'Demo tweets (hand-written)']));
    await expect.poll(() => page.locator('table[aria-label="Datasets"] .badge', { hasText: 'synthetic' }).count()).toBe(3);
    // A version id shows its first 12 characters; a keyboard user focusing it sees all 64.
    const versionId = page.getByRole('button', { name: /^[0-9a-f]{12}: copy the dataset version [0-9a-f]{64}$/ }).first();
    const fullId = (await versionId.getAttribute('aria-label'))!.match(/[0-9a-f]{64}/)![0];
    expect(await versionId.textContent()).toBe(fullId.slice(0, 12));
    await versionId.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    await expect.poll(() => versionId.evaluate((el) => getComputedStyle(el, '::after').content)).toBe(`"${fullId}"`);
    await page.getByRole('link', { name: 'Demo car damage (synthetic)' }).click();
    await page.getByTestId('eda').getByRole('img', { name: /Label distribution: minor 100, moderate 100, major 100/ }).waitFor();
    await studio.screenshot('datasets-demo-cars');
    expect(studio.errors).toEqual([]);
  }, 180_000);
});
