import { liveQuery } from 'dexie';
import { getDb } from '$lib/db/db';
import { withLock } from '$lib/locks';
import { pushMetrics, pushUrl, validatePushSettings, type MetricsPushSettings } from '$lib/monitoring/push';
import { getSetting, setSetting } from '$lib/settings';
import { studioMetrics } from '$studio/rest-host';

const LOCK = 'loupe-metrics-push';

/**
 * Pushes `api/metrics`' figures to the Pushgateway of Settings → Push metrics every N seconds, and
 * stores each outcome for Settings to show. Only the tab holding the `loupe-metrics-push` Web Lock
 * pushes; the others queue for it and the next takes over when that tab closes. A change of the
 * setting (from any tab) pushes at once. Idempotent; returns the function that stops it.
 * @example startMetricsPush(); // once, in main.ts
 */
export function startMetricsPush(): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let released: () => void = () => {};
  const done = new Promise<void>((resolve) => (released = resolve));
  const subscription = liveQuery(() => getSetting(getDb(), 'metricsPush')).subscribe({ next: () => wake?.(), error: () => {} });

  const pushOnce = async (settings: MetricsPushSettings) => {
    const db = getDb();
    let checked: MetricsPushSettings;
    try {
      checked = validatePushSettings(settings, document.baseURI);
    } catch (error) {
      await setSetting(db, 'metricsPushOutcome', { ok: false, at: Date.now(), url: settings.url, error: (error as Error).message });
      return;
    }
    const url = pushUrl(checked, document.baseURI);
    let text: string;
    try {
      text = await studioMetrics();
    } catch (error) {
      await setSetting(db, 'metricsPushOutcome', { ok: false, at: Date.now(), url, error: `could not read the figures: ${(error as Error).message}` });
      return;
    }
    await setSetting(db, 'metricsPushOutcome', await pushMetrics(url, text));
  };

  void withLock(LOCK, async () => {
    while (!stopped) {
      const settings = await getSetting(getDb(), 'metricsPush').catch(() => undefined);
      if (settings?.enabled) await pushOnce(settings).catch((error: unknown) => console.warn('Loupe metrics push failed:', error));
      if (stopped) break;
      // Sleep for the interval, or until the setting changes or the tab stops pushing.
      await Promise.race([
        new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, Math.max(5, settings?.intervalSeconds ?? 15) * 1000);
        }),
        done,
      ]);
      clearTimeout(timer);
    }
  });
  return () => {
    stopped = true;
    subscription.unsubscribe();
    released();
  };
}
