import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingServers, PROMETHEUS_BIN, PUSHGATEWAY_BIN, startPrometheus, startPushgateway, type Prometheus, type Server } from '../unit/monitoring/prometheus-servers';
import { openGate, registerRun, seedPhrases, trainSentiment } from './flows';
import { openStudio, waitForServiceWorker, type Studio } from './harness';

const DATASET = 'e2e-push-phrases';

/** `POST api/predict` from the page, through the service worker to the studio tab; the statuses. */
async function predictOverRest(studio: Studio, texts: string[]): Promise<number[]> {
  return studio.page.evaluate(async (list) => {
    const statuses: number[] = [];
    for (const text of list) {
      const response = await fetch(new URL('api/predict', document.baseURI), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      statuses.push(response.status);
      await response.text();
    }
    return statuses;
  }, texts);
}

const missing = missingServers(PUSHGATEWAY_BIN, PROMETHEUS_BIN);
if (missing) console.warn(`metrics-push.e2e.ts${missing}`);

describe.skipIf(missing !== '')(`metrics pushed from Chromium into Debian's Pushgateway, scraped by Prometheus${missing}`, () => {
  let gateway: Server;
  let prometheus: Prometheus;
  let studio: Studio;

  beforeAll(async () => {
    gateway = await startPushgateway();
    prometheus = await startPrometheus(`127.0.0.1:${gateway.port}`);
    // The gateway behind the studio's own origin, as a team's reverse proxy serves it: the page's
    // connect-src 'self' allows it and no CORS is involved (docs/monitoring.md).
    studio = await openStudio({ proxy: { '/pushgateway/': { target: gateway.url, rewrite: (path) => path.replace(/^\/pushgateway/, '') } } });
  }, 60_000);
  afterAll(async () => {
    await studio?.close();
    await prometheus?.stop();
    await gateway?.stop();
  });

  const countsByVersion = async () => {
    const result = await prometheus.query('sum by (version) (loupe_predictions_total{model="sentiment", job="loupe", instance="e2e"})');
    return Object.fromEntries(result.map((r) => [r.metric.version, r.value]));
  };

  it('pushes predictions made in the tab; PromQL counts them per version; a gateway that goes down is reported, and serving goes on', async () => {
    const { page } = studio;
    await studio.goto('train');
    await seedPhrases(studio, DATASET);
    await trainSentiment(studio, { name: 'pushed run', epochs: 6, learningRate: 0.05 });
    await registerRun(page, 'pushed run', 1, 'sentiment');
    await studio.goto('registry/sentiment');
    await openGate(page, 1, DATASET, 'recorded');
    await page.getByRole('dialog').getByRole('button', { name: 'Run the gate' }).click();
    await page.getByRole('status').filter({ hasText: 'no production version yet' }).waitFor();
    await waitForServiceWorker(page);
    const texts = ['the service was great', 'awful day at the park', 'this phone is okay', 'honestly amazing experience', 'worst update', 'love it', 'listed tuesday'];
    expect(await predictOverRest(studio, texts)).toEqual(texts.map(() => 200));

    await studio.goto('monitor/sentiment');
    await expect(page.getByTestId('metrics-note').textContent()).resolves.toMatch(/a Prometheus server cannot scrape a tab/);

    await studio.goto('settings');
    const form = page.getByRole('form', { name: 'Push metrics' });
    await form.getByLabel('Pushgateway URL').fill('/pushgateway/');
    await form.getByLabel('Job label').fill('');
    await form.getByRole('button', { name: 'Start pushing' }).click();
    await expect(form.getByRole('alert').textContent()).resolves.toBe('Job label: give a name (the gateway groups pushes by it)');
    await expect(form.getByLabel('Job label').getAttribute('aria-invalid')).resolves.toBe('true');
    await form.getByLabel('Job label').fill('loupe');
    await form.getByLabel('Instance label').fill('e2e');
    await form.getByLabel('Push every (s)').fill('5');
    await form.getByRole('button', { name: 'Start pushing' }).click();

    const outcome = page.getByTestId('push-outcome');
    await expect.poll(() => outcome.getAttribute('data-ok'), { timeout: 20_000 }).toBe('true');
    await expect(outcome.textContent()).resolves.toMatch(/^\s*Last push ok at .+ bytes to http:\/\/127\.0\.0\.1:\d+\/pushgateway\/metrics\/job\/loupe\/instance\/e2e\s*$/);
    await expect.poll(countsByVersion, { timeout: 20_000, interval: 250 }).toEqual({ 1: texts.length });

    // Later predictions arrive with the next periodic push.
    expect(await predictOverRest(studio, texts.slice(0, 3))).toEqual([200, 200, 200]);
    await expect.poll(countsByVersion, { timeout: 20_000, interval: 250 }).toEqual({ 1: texts.length + 3 });
    await studio.screenshot('settings-push-metrics');

    // The gateway goes down: the outcome says so; predictions are still served and logged.
    await gateway.stop();
    await form.getByRole('button', { name: 'Save and push now' }).click();
    await expect.poll(() => outcome.getAttribute('data-ok'), { timeout: 20_000 }).toBe('false');
    await expect(outcome.textContent()).resolves.toMatch(/Last push failed at .+: the gateway answered 5\d\d/);
    expect(await predictOverRest(studio, texts.slice(0, 2))).toEqual([200, 200]);
    expect(studio.errors.filter((e) => !/pushgateway|Failed to load resource/.test(e))).toEqual([]);
  }, 180_000);
});
