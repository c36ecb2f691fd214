import type { LoupeDb } from '$lib/db/db';
import type { BackendChoice } from '$lib/backends/resolve';
import {
  DEFAULT_LOG_RETENTION,
  DEFAULT_METRICS_PUSH,
  DEFAULT_SERVING_SETTINGS,
  type LogRetention,
  type MetricsPushOutcome,
  type MetricsPushSettings,
  type ServingSettings,
} from '$lib/db/settings-shapes';

/** Every setting Loupe stores, with its type and default. */
export interface SettingValues {
  backend: BackendChoice;
  /** Request limits, and whether this browser answers the same-origin REST API. */
  serving: ServingSettings;
  /** How much of the inference log to keep. */
  logRetention: LogRetention;
  /** Where `hub:` first weights are downloaded from: the Hugging Face hub or a mirror with its layout. */
  weightsHost: string;
  /** Pushing the Prometheus figures to a Pushgateway. */
  metricsPush: MetricsPushSettings;
  /** The last push's outcome; null before the first. */
  metricsPushOutcome: MetricsPushOutcome | null;
}

export const SETTING_DEFAULTS: SettingValues = {
  backend: 'auto',
  serving: DEFAULT_SERVING_SETTINGS,
  logRetention: DEFAULT_LOG_RETENTION,
  weightsHost: 'https://huggingface.co/',
  metricsPush: DEFAULT_METRICS_PUSH,
  metricsPushOutcome: null,
};

export async function getSetting<K extends keyof SettingValues>(db: LoupeDb, key: K): Promise<SettingValues[K]> {
  const row = await db.settings.get(key);
  return row === undefined ? SETTING_DEFAULTS[key] : (row.value as SettingValues[K]);
}

export async function setSetting<K extends keyof SettingValues>(db: LoupeDb, key: K, value: SettingValues[K]): Promise<void> {
  await db.settings.put({ key, value });
}
