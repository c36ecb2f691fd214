import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSrcFromEnv, cspHeader, cspMeta } from '../../scripts/vite/csp';
import { ROUTES } from '../../src/lib/ui/routes';
import { launchChromium, type LaunchedBrowser } from './chromium';
import { openGate, registerRun } from './flows';
import { readTable, SCREENSHOT_DIR, waitForServiceWorker } from './harness';

/**
 * The built app under its Content-Security-Policy. The server sends the documented header too (with a
 * report-uri), so the workers and the service worker — which a `<meta>` policy does not reach — run under
 * the same policy, and every violation anywhere comes back as a report.
 */

const PAYLOAD = '<img src=x onerror="window.__pwned=1">';
const TINY_ROBERTA = fileURLToPath(new URL('../fixtures/tiny-roberta', import.meta.url));

interface Harness {
  server: PreviewServer;
  browser: LaunchedBrowser;
  page: Page;
  baseUrl: string;
  reports: unknown[];
  /** Console messages about the policy, and uncaught errors, from the page and its workers. */
  console: string[];
  /** Every request whose URL is not of the app's origin (data: and blob: URLs are local). */
  remote: string[];
}

async function start(): Promise<Harness> {
  const reports: unknown[] = [];
  const server = await preview({
    root: process.cwd(),
    logLevel: 'warn',
    preview: { port: 0, host: '127.0.0.1', headers: { 'Content-Security-Policy': `${cspHeader({ connectSrc: connectSrcFromEnv() })}; report-uri /__csp-report` } },
    plugins: [
      {
        name: 'csp-report-collector',
        configurePreviewServer(previewServer) {
          previewServer.middlewares.use('/__csp-report', (request, response) => {
            let body = '';
            request.on('data', (chunk: Buffer) => (body += chunk.toString()));
            request.on('end', () => {
              reports.push(JSON.parse(body || '{}') as unknown);
              response.statusCode = 204;
              response.end();
            });
          });
        },
      },
    ],
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  const baseUrl = `http://127.0.0.1:${address.port}/`;
  const browser = await launchChromium();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const consoleMessages: string[] = [];
  const remote: string[] = [];
  const watchConsole = (text: string, type: string) => {
    if (type === 'error' || /Content.Security.Policy|Refused to/i.test(text)) consoleMessages.push(text);
  };
  page.on('console', (message) => watchConsole(message.text(), message.type()));
  page.on('pageerror', (error) => consoleMessages.push(error.message));
  page.on('worker', (worker) => worker.on('console', (message) => watchConsole(`[worker ${worker.url()}] ${message.text()}`, message.type())));
  browser.context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(baseUrl) && !/^(data|blob):/.test(url)) remote.push(url);
  });
  // Violations the document sees (the report-uri catches the workers' too).
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`));
  });
  await page.goto(baseUrl);
  await page.locator('main h1').first().waitFor();
  return { server, browser, page, baseUrl, reports, console: consoleMessages, remote };
}

const violations = (page: Page) => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);

async function goto(h: Harness, route: string): Promise<void> {
  await h.page.goto(`${h.baseUrl}#/${route}`);
  await h.page.locator('main h1').first().waitFor();
}

/** No element built from the payload exists, it never ran, and (where given) it is on the page as text. */
async function expectInert(page: Page, where: string): Promise<void> {
  await expect(page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), where).resolves.toBeUndefined();
  await expect(page.locator('img[src="x"]').count(), where).resolves.toBe(0);
}

describe('web security: the built app under its Content-Security-Policy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h?.browser.close();
    await h?.server.close();
  });

  it('ships the policy as the first element of <head>, with no unsafe-inline or unsafe-eval', () => {
    const html = readFileSync('dist/index.html', 'utf8');
    const meta = /<head>\s*<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
    expect(meta, 'dist/index.html starts <head> with the CSP meta').not.toBeNull();
    const content = meta![1]!.replace(/&#39;/g, "'");
    expect(content).toBe(cspMeta({ connectSrc: connectSrcFromEnv() }));
    expect(content).toContain("script-src 'self' 'wasm-unsafe-eval' blob:;");
    expect(content).toContain("object-src 'none'");
    expect(content).not.toMatch(/unsafe-inline|'unsafe-eval'|frame-ancestors/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script the policy would block
  });

  it('is in force: an injected inline script and an inline event handler do not run', async () => {
    await h.page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.body.append(script);
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onerror="window.__inline = 2" onload="window.__inline = 3">';
      document.body.append(div);
    });
    await expect.poll(() => violations(h.page)).toEqual(expect.arrayContaining([expect.stringMatching(/^script-src-elem inline/), expect.stringMatching(/^script-src-attr inline/)]));
    await expect(h.page.evaluate(() => (window as unknown as { __inline?: number }).__inline)).resolves.toBeUndefined();
    await h.page.reload();
    await h.page.locator('main h1').first().waitFor();
    h.reports.length = 0;
    h.console.length = 0;
  });

  it('a real flow raises no violation, sends nothing off the origin and shows hostile user text as text', async () => {
    const { page } = h;
    // Demo data: the ingest worker decodes and resizes images with createImageBitmap and OffscreenCanvas.
    await goto(h, 'datasets');
    await page.getByRole('button', { name: 'Load demo data' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Datasets"] tbody tr').length === 3, undefined, { timeout: 170_000 });

    // A dataset whose name and class labels are markup, imported through the page.
    const rows = ['text,label'];
    for (let i = 0; i < 24; i++) rows.push(i % 2 ? `"awful terrible bad ${i}",bad` : `"${PAYLOAD.replace(/"/g, '""')} lovely ${i}","${PAYLOAD.replace(/"/g, '""')}"`);
    await page.getByLabel('Task').selectOption('sentiment');
    await page.getByLabel('Dataset name').fill(`${PAYLOAD} data`);
    await page.getByLabel('Files or zip').setInputFiles({ name: 'hostile.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByTestId('import-result').textContent(), { timeout: 60_000 }).toMatch(/24 samples/);
    await expectInert(page, 'import result');

    // fastText training (trainer worker, tfjs) on it, with a run name that is markup.
    const dataset = (await readTable<{ id: string; name: string }>(page, 'datasets')).find((d) => d.name.startsWith(PAYLOAD))!;
    await goto(h, 'train');
    await page.getByLabel('Task').selectOption('text-classification');
    await page.getByLabel('Dataset version').selectOption(dataset.id);
    await page.getByLabel('Text model').selectOption('fasttext');
    await page.getByLabel('Embedding width').fill('8');
    await page.getByLabel('Epochs', { exact: true }).fill('2');
    await page.getByLabel('Run name').fill(PAYLOAD);
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForFunction(() => /^(completed|failed|cancelled)$/.test(document.querySelector('[data-testid="train-state"]')?.textContent ?? ''), undefined, { timeout: 120_000 });
    const trained = await page.getByTestId('train-state').textContent();
    expect(trained, `training ${trained}: ${await page.locator('main').textContent()} ${JSON.stringify(h.reports)} ${h.console.join('\n')}`).toBe('completed');
    await expectInert(page, 'train page');
    await registerRun(page, PAYLOAD, 1, 'sentiment');
    await page.getByRole('button', { name: 'Edit card' }).click();
    await page.locator('textarea').first().fill(`# Card ${PAYLOAD}\n\n<script>window.__pwned = 2</script>\n\n[click](javascript:window.__pwned=3) ${PAYLOAD}`);
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByText(`Card ${PAYLOAD}`).waitFor();
    await page.getByRole('link', { name: 'click' }).count().then((n) => expect(n).toBe(0));
    await expectInert(page, 'model card');

    await goto(h, 'registry/sentiment');
    await openGate(page, 1, dataset.id, 'live');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor({ timeout: 120_000 });
    await waitForServiceWorker(page);

    // A prediction (inference worker) of a text that is markup: the log keeps it as input.
    await goto(h, 'predict');
    const form = page.getByRole('form', { name: 'Predict with sentiment' });
    await form.getByTestId('model-state').filter({ hasText: 'loaded' }).waitFor({ timeout: 60_000 });
    await form.getByLabel('Text').fill(`${PAYLOAD} lovely`);
    await form.getByRole('button', { name: 'Predict' }).click();
    await form.getByText(PAYLOAD).first().waitFor({ timeout: 30_000 }); // the predicted label is the markup class, as text
    await expectInert(page, 'prediction');
    await expect.poll(async () => (await readTable<{ input: { text?: string } }>(page, 'inferenceLog')).some((r) => r.input.text?.includes(PAYLOAD))).toBe(true);
    // The same through the REST API (service worker → this tab → inference worker).
    const answer = await page.evaluate(async (text) => {
      const response = await fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      return { status: response.status, body: (await response.json()) as { label?: string } };
    }, `${PAYLOAD} lovely lovely`);
    expect(answer).toMatchObject({ status: 200, body: { label: expect.any(String) } });

    // transformers.js (ONNX Runtime Web's wasm in the inference worker) from a local folder.
    await goto(h, 'settings');
    const classifier = page.getByTestId('text-classifier-source');
    await classifier.getByLabel('Local folder').check();
    await classifier.getByLabel('Pick a model folder').setInputFiles(TINY_ROBERTA);
    await expect.poll(() => classifier.getByLabel('Stored folder').inputValue(), { timeout: 30_000 }).toBe('tiny-roberta');
    await page.getByRole('button', { name: 'Load and test the classifier' }).click();
    await page.getByTestId('text-classifier-test').getByText('loaded').waitFor({ timeout: 60_000 });

    // Every page, and the detail pages that show the hostile text.
    const run = (await readTable<{ id: string; name: string }>(page, 'runs')).find((r) => r.name === PAYLOAD)!;
    const pages = [...ROUTES.map((r) => r.path), `datasets/${dataset.id}`, `runs/${run.id}`, 'registry/sentiment', 'registry/sentiment/1', 'predict/log', 'monitor'];
    // Where the hostile text must be visible, as text (live queries render after the route's heading).
    const showsPayload: Record<string, string> = {
      [`datasets/${dataset.id}`]: 'dataset name and labels',
      [`runs/${run.id}`]: 'run name',
      'registry/sentiment/1': 'model card',
      'predict/log': 'logged input',
    };
    for (const route of pages) {
      await goto(h, route);
      await page.waitForLoadState('networkidle');
      if (showsPayload[route]) await expect.poll(() => page.getByText(PAYLOAD).count(), { message: showsPayload[route], timeout: 15_000 }).toBeGreaterThan(0);
      await expectInert(page, route);
      if (route === 'registry/sentiment/1') await page.screenshot({ path: `${SCREENSHOT_DIR}/security-registry-card.png`, fullPage: true });
      if (route === 'predict/log') await page.screenshot({ path: `${SCREENSHOT_DIR}/security-log.png`, fullPage: true });
    }

    // Give report-uri posts a moment to arrive, then: nothing was blocked, nothing left the origin.
    await page.waitForTimeout(1000);
    expect(await violations(page)).toEqual([]);
    expect(h.reports).toEqual([]);
    expect(h.console.filter((m) => /Content.Security.Policy|Refused to/i.test(m))).toEqual([]);
    expect(h.remote).toEqual([]);
  }, 600_000);
});
