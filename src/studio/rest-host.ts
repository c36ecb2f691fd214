import { liveQuery } from 'dexie';
import { getDb } from '$lib/db/db';
import { prometheusText } from '$lib/monitoring/prometheus';
import { foldLoggedRows } from '$lib/monitoring/rollups';
import { workers } from '$lib/workers';
import { serveBridgeRequest } from '$lib/serving/bridge-host';
import { readServingSettings } from '$lib/serving/config';
import { isBridgeHead } from '$lib/serving/protocol';
import { createRestHandler, type RestHandler } from '$lib/serving/rest';
import { inferenceMemoryText } from '$lib/serving/runtime-metrics';
import { studioServing } from '$studio/serving';
import type { ServingSettings } from '$lib/serving/types';

let stop: (() => void) | undefined;

/** Monitoring's figures, then the inference worker's memory while it serves a model: `api/metrics`, and what Settings → Push metrics pushes. */
export async function studioMetrics(): Promise<string> {
  const memory = await inferenceMemoryText(
    () => studioServing().loaded().length > 0,
    () => workers().inference.api().memory(),
  );
  // Rows answered in the last instant (in any tab) may wait to be folded into the rollups: totals count them now.
  await foldLoggedRows(getDb());
  return (await prometheusText(getDb())) + memory;
}

/**
 * The `serving` setting, kept current by a live query (changes from any tab arrive within
 * milliseconds). Every forwarded request asks it before acknowledging: read from IndexedDB each time, a
 * burst of 1,000 requests queued 1,000 reads and outlasted the service worker's 2 s acknowledgement
 * window, so every one was answered 503 "no studio tab" while the tab was open.
 */
function liveServingSettings(): { current: () => Promise<ServingSettings>; stop: () => void } {
  let latest: ServingSettings | undefined;
  const subscription = liveQuery(() => readServingSettings(getDb())).subscribe({
    next: (value) => (latest = value),
    error: () => (latest = undefined),
  });
  return {
    current: () => (latest ? Promise.resolve(latest) : readServingSettings(getDb())),
    stop: () => subscription.unsubscribe(),
  };
}

/**
 * Makes this tab answer the same-origin REST API that the service worker forwards (`/api/*` under
 * the app's scope). Idempotent; returns the function that stops it. The shell calls it once after
 * opening the database.
 * @example await openStudioDb(); startRestHost();
 */
export function startRestHost(): () => void {
  if (stop) return stop;
  const container = typeof navigator === 'undefined' ? undefined : navigator.serviceWorker;
  if (!container) return () => {};
  let handler: RestHandler | undefined;
  const settings = liveServingSettings();
  const onMessage = (event: MessageEvent) => {
    const port = event.ports[0];
    if (!isBridgeHead(event.data) || !port) return;
    handler ??= createRestHandler({ sdk: studioServing(), limits: settings.current, metrics: studioMetrics });
    void serveBridgeRequest(event.data, port, { handler, enabled: async () => (await settings.current()).restEnabled });
  };
  container.addEventListener('message', onMessage);
  // Messages from the worker queue until the page starts them (an `onmessage` setter would too).
  container.startMessages();
  stop = () => {
    container.removeEventListener('message', onMessage);
    settings.stop();
    stop = undefined;
  };
  return stop;
}
