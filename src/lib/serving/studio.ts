import { getDb } from '$lib/db/db';
import { getSetting } from '$lib/settings';
import { workers } from '$lib/workers';
import { readServingSettings } from './config';
import { InferenceLogger } from './log';
import { ServingSdk } from './sdk';
import { workerPredictorFactory } from './worker-predictor';

let sdk: ServingSdk | undefined;
let logger: InferenceLogger | undefined;

/** The tab's inference log writer (flushes when the tab is hidden). */
export function studioLogger(): InferenceLogger {
  if (!logger) {
    logger = new InferenceLogger(getDb);
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
