import type { MetricsPushOutcome, MetricsPushSettings } from '$lib/db/settings-shapes';

export type { MetricsPushOutcome, MetricsPushSettings } from '$lib/db/settings-shapes';
export { DEFAULT_METRICS_PUSH } from '$lib/db/settings-shapes';

/** The content type a Pushgateway reads as the text exposition format. */
export const PUSH_CONTENT_TYPE = 'text/plain; version=0.0.4';
export const MIN_PUSH_INTERVAL_S = 5;
export const MAX_PUSH_INTERVAL_S = 3600;
const PUSH_TIMEOUT_MS = 10_000;

/** A push setting that cannot work, naming the field at fault. */
export class PushConfigError extends Error {
  override name = 'PushConfigError';
  constructor(
    readonly field: 'url' | 'job' | 'instance' | 'intervalSeconds',
    message: string,
  ) {
    super(message);
  }
}

/** The fields of a push target the gateway's grouping key needs (the CLI has no interval). */
export type PushTarget = Pick<MetricsPushSettings, 'url' | 'job' | 'instance'>;

function checkLabel(field: 'job' | 'instance', value: string, required: boolean): void {
  if (required && value.trim() === '') throw new PushConfigError(field, `${field === 'job' ? 'Job' : 'Instance'} label: give a name (the gateway groups pushes by it)`);
  if (value.length > 200) throw new PushConfigError(field, `${field === 'job' ? 'Job' : 'Instance'} label: at most 200 characters, got ${value.length}`);
}

/**
 * Checks a push setting and returns it trimmed; throws a `PushConfigError` naming the field otherwise.
 * The URL may be absolute (http/https) or a path on the studio's own origin (resolved against `base`).
 * @example validatePushSettings({ enabled: true, url: '/pushgateway/', job: 'loupe', instance: 'lab-1', intervalSeconds: 15 }, location.href)
 */
export function validatePushSettings(settings: MetricsPushSettings, base?: string): MetricsPushSettings {
  const target = validatePushTarget(settings, base);
  const interval = settings.intervalSeconds;
  if (!Number.isInteger(interval) || interval < MIN_PUSH_INTERVAL_S || interval > MAX_PUSH_INTERVAL_S) {
    throw new PushConfigError('intervalSeconds', `Push every: a whole number of seconds from ${MIN_PUSH_INTERVAL_S} to ${MAX_PUSH_INTERVAL_S}, got ${Number.isFinite(interval) ? interval : 'nothing'}`);
  }
  return { ...settings, ...target };
}

/** Checks a gateway URL and grouping labels (see `validatePushSettings`). */
export function validatePushTarget(target: PushTarget, base?: string): PushTarget {
  const url = target.url.trim();
  if (url === '') throw new PushConfigError('url', 'Pushgateway URL: give the gateway\'s address, e.g. https://pushgateway.example.org/ or /pushgateway/ on this origin');
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    throw new PushConfigError('url', `Pushgateway URL: "${url}" is not a URL${base ? '' : ' (give an absolute http:// or https:// address)'}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new PushConfigError('url', `Pushgateway URL: only http:// and https:// addresses can be pushed to, got ${parsed.protocol}`);
  if (parsed.username || parsed.password) throw new PushConfigError('url', 'Pushgateway URL: leave credentials out of the address (browsers refuse to send them); put the gateway behind a proxy that authenticates');
  if (parsed.search || parsed.hash) throw new PushConfigError('url', 'Pushgateway URL: give the gateway\'s base address without ?query or #fragment; Loupe adds /metrics/job/…');
  if (/\/metrics(\/|$)/.test(parsed.pathname)) throw new PushConfigError('url', 'Pushgateway URL: give the gateway\'s base address; Loupe adds /metrics/job/<job>/instance/<instance> itself');
  const job = target.job.trim();
  const instance = target.instance.trim();
  checkLabel('job', job, true);
  checkLabel('instance', instance, false);
  return { url, job, instance };
}

/** A grouping-key segment: plain when URL-safe, else base64url with the gateway's `@base64` suffix (values may hold `/`). */
function segment(name: string, value: string): string {
  if (/^[A-Za-z0-9._~-]+$/.test(value)) return `${name}/${value}`;
  const base64 = btoa(String.fromCharCode(...new TextEncoder().encode(value)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
  return `${name}@base64/${base64 || '='}`;
}

/**
 * The gateway URL of one group: `<base>/metrics/job/<job>[/instance/<instance>][/<label>/<value>…]`.
 * @example pushUrl({ url: 'http://gw:9091', job: 'loupe', instance: 'lab' }) // 'http://gw:9091/metrics/job/loupe/instance/lab'
 */
export function pushUrl(target: PushTarget, base?: string, extra: Record<string, string> = {}): string {
  const root = new URL(target.url.trim(), base).href.replace(/\/+$/, '');
  const labels: [string, string][] = [['job', target.job.trim()], ...(target.instance.trim() ? [['instance', target.instance.trim()] as [string, string]] : []), ...Object.entries(extra)];
  return `${root}/metrics/${labels.map(([k, v]) => segment(k, v)).join('/')}`;
}

/** Node's fetch says only "fetch failed"; the cause carries the reason (ECONNREFUSED, ENOTFOUND). */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

/**
 * PUTs exposition text to one gateway group, replacing every family the group held (so a resolved
 * alert's series does not linger), and returns the outcome; never throws. In a browser, a gateway on
 * another origin must answer the CORS preflight a PUT needs (docs/monitoring.md).
 * @example const outcome = await pushMetrics(pushUrl(settings, location.href), await prometheusText(db));
 */
export async function pushMetrics(url: string, text: string, options: { fetch?: typeof fetch; now?: () => number; timeoutMs?: number } = {}): Promise<MetricsPushOutcome> {
  const fetchFn = options.fetch ?? fetch;
  const at = (options.now ?? Date.now)();
  const body = new TextEncoder().encode(text);
  let response: Response;
  try {
    response = await fetchFn(url, { method: 'PUT', headers: { 'content-type': PUSH_CONTENT_TYPE }, body, signal: AbortSignal.timeout(options.timeoutMs ?? PUSH_TIMEOUT_MS) });
  } catch (error) {
    const origin = new URL(url).origin;
    const reason =
      error instanceof DOMException && error.name === 'TimeoutError'
        ? `no answer from ${origin} within ${(options.timeoutMs ?? PUSH_TIMEOUT_MS) / 1000} s`
        : `could not reach ${origin} (${describeFetchError(error)}): the gateway is down or unreachable` +
          (typeof document === 'undefined' ? '' : ', or the browser refused the request — a gateway on another origin must answer CORS and be in the build\'s connect-src');
    return { ok: false, at, url, error: reason };
  }
  if (response.ok) {
    await response.body?.cancel();
    return { ok: true, at, url, bytes: body.byteLength };
  }
  const detail = (await response.text().catch(() => '')).trim().slice(0, 300);
  return { ok: false, at, url, error: `the gateway answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${detail ? `: ${detail}` : ''}` };
}
