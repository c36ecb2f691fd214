import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { preview, type PreviewServer, type ProxyOptions } from 'vite';
import { launchChromium, type LaunchedBrowser } from './chromium';

/** Screenshots land here (git-ignored) so anyone can look at every page after a run. */
export const SCREENSHOT_DIR = join(process.cwd(), '.artifacts', 'screenshots');

export interface Studio {
  page: Page;
  browser: LaunchedBrowser;
  /** Base URL of the built app, ending in '/'. */
  baseUrl: string;
  /** Console errors and uncaught page errors seen so far (a user-facing page must produce none). */
  errors: string[];
  /** Opens a route (`'settings'`) and waits for its heading. */
  goto(route: string): Promise<void>;
  screenshot(name: string): Promise<string>;
  /** Stops the static server (to prove offline behaviour); `startServer` brings it back on the same port. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  close(): Promise<void>;
}

/** Serves `dist/` (built by `npm run test:e2e` before the tests) with Vite's static preview server. */
async function serveDist(port = 0, proxy?: Record<string, ProxyOptions>): Promise<PreviewServer> {
  return preview({
    root: process.cwd(),
    logLevel: 'warn',
    preview: { port, strictPort: port !== 0, host: '127.0.0.1', ...(proxy ? { proxy } : {}) },
  });
}

function portOf(server: PreviewServer): number {
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  return address.port;
}

/**
 * Starts the built studio on a local port and opens it in a fresh headless Chromium profile. `proxy`
 * puts other servers behind the studio's origin (as a team's reverse proxy would).
 * @example const studio = await openStudio(); await studio.goto('settings'); await studio.close();
 */
export async function openStudio(options: { proxy?: Record<string, ProxyOptions> } = {}): Promise<Studio> {
  let server: PreviewServer | undefined = await serveDist(0, options.proxy);
  const port = portOf(server);
  const baseUrl = `http://127.0.0.1:${port}/`;
  const browser = await launchChromium();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });

  const studio: Studio = {
    page,
    browser,
    baseUrl,
    errors,
    async goto(route) {
      await page.goto(`${baseUrl}#/${route}`);
      await page.locator('main h1').first().waitFor();
    },
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async stopServer() {
      await server?.close();
      server = undefined;
    },
    async startServer() {
      server ??= await serveDist(port, options.proxy);
    },
    async close() {
      await browser.close();
      await server?.close();
    },
  };
  await page.goto(baseUrl);
  return studio;
}

/** Waits until the service worker controls the page, so reloads are served from its cache. */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve()));
    }
  });
}

/**
 * Starts keeping every notification the page shows from now on (until it navigates), and returns a reader of
 * their texts. A toast leaves after 6 s: one raised by a background tick (an alert firing) can come and go
 * between two looks of a test on a busy machine, as it can while a user looks away.
 */
export async function keepNotifications(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { loupeNotices: string[] }).loupeNotices = seen;
    new MutationObserver(() => {
      for (const toast of document.querySelectorAll('.toast')) if (!seen.includes(toast.textContent!)) seen.push(toast.textContent!);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { loupeNotices: string[] }).loupeNotices);
}

/** Every row of one of the studio's IndexedDB tables, read in the page (what the studio stored, not what it shows). */
export async function readTable<T = Record<string, unknown>>(page: Page, table: string): Promise<T[]> {
  return page.evaluate(
    (name) =>
      new Promise<T[]>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction(name).objectStore(name).getAll();
          request.onsuccess = () => {
            open.result.close();
            resolve(request.result as T[]);
          };
          request.onerror = () => reject(request.error);
        };
      }),
    table,
  );
}

/**
 * Writes rows straight into the studio's IndexedDB (as a worker would), then reloads so live queries
 * read them. The page must have opened the database once already.
 */
export async function seedRows(studio: Studio, rows: Record<string, unknown[]>): Promise<void> {
  await studio.page.evaluate(async (tables) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('loupe');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(Object.keys(tables), 'readwrite');
      for (const [name, items] of Object.entries(tables)) for (const item of items) tx.objectStore(name).put(item);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, rows);
  await studio.page.reload();
  await studio.page.locator('main h1').waitFor();
}
