import { getDb } from '$lib/db/db';
import { isQuotaError } from '$lib/db/quota';
import { InferenceLogger } from '$lib/monitoring/log';
import { getSetting } from '$lib/settings';
import { notifications, notify } from '$lib/ui/notifications.svelte';
import { workers } from '$lib/workers';
import { readServingSettings } from '$lib/serving/config';
import { ServingSdk } from '$lib/serving/sdk';
import { workerPredictorFactory } from '$lib/serving/worker-predictor';

let sdk: ServingSdk | undefined;
let logger: InferenceLogger | undefined;

let storageFullNotice: number | undefined;

/** A full storage is shown (once while its toast is up, not on every retry); other write errors are logged. */
function reportLogError(error: unknown): void {
  if (!isQuotaError(error)) {
    console.warn('Loupe could not write the inference log:', error);
    return;
  }
  if (notifications.items.some((n) => n.id === storageFullNotice)) return;
  storageFullNotice = notify('error', error instanceof Error ? error.message : String(error));
}

/** The tab's inference log writer (flushes when the tab is hidden). */
export function studioLogger(): InferenceLogger {
  if (!logger) {
    logger = new InferenceLogger(getDb, { onError: reportLogError });
    logger.attach(document, window);
  }
  return logger;
}

/**
 * The tab's serving SDK: models run in the inference worker on the backend chosen in Settings, and
 * every prediction is logged. Pages and the REST host share it, so a version is loaded once per tab.
 * @example const { prediction, version } = await studioServing().predict('sentiment', text, { source: 'ui' });
 */
export function studioServing(): ServingSdk {
  sdk ??= new ServingSdk({
    db: getDb,
    predictors: workerPredictorFactory(
      () => workers().inference.api(),
      () => getSetting(getDb(), 'backend'),
    ),
    sink: studioLogger(),
    limits: () => readServingSettings(getDb()),
  });
  return sdk;
}
