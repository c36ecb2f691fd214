/**
 * Shapes of the stored settings that serving and the inference log read (`settings` rows `serving` and
 * `logRetention`), with their defaults. Defined here, at the bottom, so `$lib/settings` can type every
 * setting without importing serving; `$lib/serving/types` re-exports them.
 */

/** Request limits of the SDK and the REST API (settings key `serving`). */
export interface ServingLimits {
  /** Largest accepted image, decoded, in bytes. */
  maxImageBytes: number;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Most examples in one request. */
  maxBatch: number;
  /** Longest accepted text, in characters. */
  maxTextChars: number;
}

export const DEFAULT_SERVING_LIMITS: ServingLimits = {
  maxImageBytes: 10 * 1024 * 1024,
  maxBodyBytes: 64 * 1024 * 1024,
  maxBatch: 256,
  maxTextChars: 10_000,
};

/** The `serving` setting: limits, and whether this browser answers the same-origin REST API. */
export interface ServingSettings extends ServingLimits {
  restEnabled: boolean;
}

export const DEFAULT_SERVING_SETTINGS: ServingSettings = { ...DEFAULT_SERVING_LIMITS, restEnabled: true };

/** The `logRetention` setting, enforced after log flushes. */
export interface LogRetention {
  maxRows: number;
  maxAgeDays: number;
  /** Keep request images as blobs (for feedback → dataset); otherwise only their hash and size. */
  keepImages: boolean;
}

export const DEFAULT_LOG_RETENTION: LogRetention = { maxRows: 50_000, maxAgeDays: 30, keepImages: false };

/** The `metricsPush` setting: where the studio pushes its Prometheus figures while a tab is open. */
export interface MetricsPushSettings {
  enabled: boolean;
  /** The Pushgateway's base URL: absolute (`https://push.example.org/`), or a path on the studio's own origin (`/pushgateway/`). */
  url: string;
  /** The grouping key's `job` label. */
  job: string;
  /** The grouping key's `instance` label; empty leaves it out. */
  instance: string;
  intervalSeconds: number;
}

export const DEFAULT_METRICS_PUSH: MetricsPushSettings = { enabled: false, url: '', job: 'loupe', instance: '', intervalSeconds: 15 };

/** The last push's outcome (settings key `metricsPushOutcome`), shown in Settings by every tab. */
export interface MetricsPushOutcome {
  ok: boolean;
  /** When the push was attempted (ms since the epoch). */
  at: number;
  /** The URL pushed to. */
  url: string;
  /** Bytes of exposition text sent (ok pushes). */
  bytes?: number;
  /** What went wrong, in words (failed pushes). */
  error?: string;
}
