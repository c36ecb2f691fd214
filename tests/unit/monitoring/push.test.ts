import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusText } from '../../../src/lib/monitoring/prometheus';
import { DEFAULT_METRICS_PUSH, pushMetrics, pushUrl, PushConfigError, validatePushSettings } from '../../../src/lib/monitoring/push';
import { makeDb } from '../factories';
import { allRows, traffic, writeThroughLogger } from './helpers';
import { freePort, missingServers, PROMETHEUS_BIN, PUSHGATEWAY_BIN, startPrometheus, startPushgateway, until, type Prometheus, type Server } from './prometheus-servers';

const settings = (overrides: Partial<typeof DEFAULT_METRICS_PUSH>) => ({ ...DEFAULT_METRICS_PUSH, enabled: true, url: 'http://gw.example:9091/', ...overrides });
const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof PushConfigError) return [error.field, error.message];
    throw error;
  }
  return undefined;
};

describe('push settings', () => {
  it('refuses what cannot work, naming the field', () => {
    expect(fieldOf(() => validatePushSettings(settings({ url: '' })))).toEqual(['url', expect.stringMatching(/^Pushgateway URL: give the gateway's address/)]);
    expect(fieldOf(() => validatePushSettings(settings({ url: 'gateway:9091' })))).toEqual(['url', 'Pushgateway URL: only http:// and https:// addresses can be pushed to, got gateway:']);
    expect(fieldOf(() => validatePushSettings(settings({ url: '/pushgateway/' })))).toEqual(['url', expect.stringContaining('is not a URL (give an absolute')]);
    expect(fieldOf(() => validatePushSettings(settings({ url: 'http://u:p@gw:9091' })))![1]).toMatch(/leave credentials out/);
    expect(fieldOf(() => validatePushSettings(settings({ url: 'http://gw:9091/metrics/job/x' })))![1]).toMatch(/Loupe adds \/metrics\/job/);
    expect(fieldOf(() => validatePushSettings(settings({ job: '  ' })))).toEqual(['job', 'Job label: give a name (the gateway groups pushes by it)']);
    expect(fieldOf(() => validatePushSettings(settings({ instance: 'x'.repeat(201) })))).toEqual(['instance', 'Instance label: at most 200 characters, got 201']);
    expect(fieldOf(() => validatePushSettings(settings({ intervalSeconds: 2 })))).toEqual(['intervalSeconds', 'Push every: a whole number of seconds from 5 to 3600, got 2']);
    expect(fieldOf(() => validatePushSettings(settings({ intervalSeconds: Number.NaN })))![1]).toMatch(/got nothing$/);
  });

  it('accepts a path on the studio\'s origin and builds the grouping key, base64 where a label holds a slash', () => {
    const page = 'https://studio.example.org/loupe/index.html';
    const checked = validatePushSettings(settings({ url: ' /pushgateway/ ', job: 'loupe', instance: 'lab-1' }), page);
    expect(pushUrl(checked, page)).toBe('https://studio.example.org/pushgateway/metrics/job/loupe/instance/lab-1');
    expect(pushUrl({ url: 'http://gw:9091', job: 'loupe', instance: '' })).toBe('http://gw:9091/metrics/job/loupe');
    // "team/a b" in base64url, as the gateway's `@base64` suffix expects.
    expect(pushUrl({ url: 'http://gw:9091/', job: 'loupe-train', instance: '' }, undefined, { model: 'team/a b' })).toBe('http://gw:9091/metrics/job/loupe-train/model@base64/dGVhbS9hIGI=');
  });
});

const missing = missingServers(PUSHGATEWAY_BIN, PROMETHEUS_BIN);
if (missing) console.warn(`push.test.ts${missing}`);

describe.skipIf(missing !== '')(`pushing to Debian's Pushgateway, scraped by Prometheus${missing}`, () => {
  let gateway: Server;
  let prometheus: Prometheus;
  beforeAll(async () => {
    gateway = await startPushgateway();
    prometheus = await startPrometheus(`127.0.0.1:${gateway.port}`);
  }, 30_000);
  afterAll(async () => {
    await prometheus?.stop();
    await gateway?.stop();
  });

  it('delivers the studio\'s exposition: PromQL counts the predictions of each version', async () => {
    const db = makeDb();
    await writeThroughLogger(db, traffic(120, { seed: 3 }));
    const rows = await allRows(db);
    const url = pushUrl({ url: gateway.url, job: 'loupe', instance: 'node-test' });
    const outcome = await pushMetrics(url, await prometheusText(db));
    expect(outcome).toMatchObject({ ok: true, url });

    const perVersion = await until('prediction counts in Prometheus', async () => {
      const result = await prometheus.query('sum by (version) (loupe_predictions_total{model="sentiment", job="loupe", instance="node-test"})');
      return result.length === 2 ? Object.fromEntries(result.map((r) => [r.metric.version, r.value])) : undefined;
    });
    expect(perVersion).toEqual({ 1: rows.filter((r) => r.version === 1).length, 2: rows.filter((r) => r.version === 2).length });
    // A histogram Grafana draws: p95 latency from the pushed buckets.
    const p95 = await prometheus.query('histogram_quantile(0.95, sum by (le) (loupe_prediction_latency_seconds_bucket{model="sentiment"}))');
    expect(p95[0]!.value).toBeGreaterThan(0);
  });

  it('says when the gateway refuses the push or is down, and a later push recovers', async () => {
    const url = pushUrl({ url: gateway.url, job: 'loupe', instance: 'refused' });
    const refused = await pushMetrics(url, 'not an exposition\n');
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/^the gateway answered 400 Bad Request: /);

    const nobody = await freePort();
    const down = await pushMetrics(pushUrl({ url: `http://127.0.0.1:${nobody}`, job: 'loupe', instance: '' }), '# TYPE x gauge\nx 1\n');
    expect(down).toMatchObject({ ok: false, error: `could not reach http://127.0.0.1:${nobody} (ECONNREFUSED): the gateway is down or unreachable` });
    expect(await pushMetrics(url, '# TYPE loupe_ok gauge\nloupe_ok 1\n')).toMatchObject({ ok: true });
  });
});
