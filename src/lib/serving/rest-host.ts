import { getDb } from '$lib/db/db';
import { prometheusText } from '$lib/monitoring/prometheus';
import { serveBridgeRequest } from './bridge-host';
import { readServingSettings } from './config';
import { isBridgeHead } from './protocol';
import { createRestHandler, type RestHandler } from './rest';
import { studioServing } from './studio';

let stop: (() => void) | undefined;

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
  const onMessage = (event: MessageEvent) => {
    const port = event.ports[0];
    if (!isBridgeHead(event.data) || !port) return;
    handler ??= createRestHandler({ sdk: studioServing(), limits: () => readServingSettings(getDb()), metrics: () => prometheusText(getDb()) });
    void serveBridgeRequest(event.data, port, { handler, enabled: async () => (await readServingSettings(getDb())).restEnabled });
  };
  container.addEventListener('message', onMessage);
  // Messages from the worker queue until the page starts them (an `onmessage` setter would too).
  container.startMessages();
  stop = () => {
    container.removeEventListener('message', onMessage);
    stop = undefined;
  };
  return stop;
}
