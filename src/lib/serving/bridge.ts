import { errorResponse } from './errors';
import { BRIDGE_MESSAGE, DEFAULT_BRIDGE_TIMINGS, FORWARDED_HEADERS, type BridgeHead, type BridgeTimings, type FromHost } from './protocol';

/**
 * The service worker's half of the REST bridge: it answers nothing itself, it finds a studio tab that
 * accepts the request and relays the tab's answer. It never hangs: no tab → 503, a tab that falls
 * silent or takes too long → 504.
 */

/** The part of a service worker `Client` the bridge uses (tests pass fakes). */
export interface BridgeClient {
  readonly id: string;
  readonly focused?: boolean;
  readonly visibilityState?: string;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

export interface BridgeOptions extends Partial<BridgeTimings> {
  /** The window clients to try, e.g. `() => self.clients.matchAll({ type: 'window', includeUncontrolled: true })`. */
  clients: () => Promise<readonly BridgeClient[]>;
  /**
   * The API's request limit (the `serving` setting's `maxBodyBytes`, or how to read it): a body over it is
   * answered 413 here, before any tab is asked, however busy the tabs are. Default `MAX_FORWARDED_BYTES`.
   */
  maxBodyBytes?: number | (() => Promise<number>);
  /** Acknowledgement time added per request already being relayed (see `ACK_MS_PER_REQUEST_IN_FLIGHT`). */
  ackMsPerRequestInFlight?: number;
}

/**
 * A tab works through the requests it already holds before it reads the next one's head: with 1,000
 * sent at once, a fixed 2 s window ran out for ~40% of them (and all of 2,000), though the tab served
 * them at ~100 a second. So each request in flight widens the window by this much.
 */
export const ACK_MS_PER_REQUEST_IN_FLIGHT = 20;

/** Requests this service worker is relaying now. */
let relaying = 0;

/** The ceiling when no request limit is given (the service worker passes the `serving` setting's). */
export const MAX_FORWARDED_BYTES = 512 * 1024 * 1024;

export const NO_STUDIO_TAB_MESSAGE = 'No studio tab is open to serve predictions; open Loupe in a tab (with REST serving on) and try again.';

const busyTabsMessage = (tabs: number, ackMs: number) =>
  `${tabs === 1 ? 'The studio tab' : `${tabs} studio tabs`} did not accept the request within ${ackMs / 1000} s (busy with other requests, frozen, or still loading); try again, or open Loupe in a tab with REST serving on.`;

/**
 * The route of an API request under the service worker's scope: `http://h/app/api/models` with scope
 * `http://h/app/` → `models`; undefined for anything else.
 */
export function apiRouteFor(url: string, scope: string): string | undefined {
  const base = new URL('api', scope);
  const target = new URL(url);
  if (target.origin !== base.origin) return undefined;
  if (target.pathname === base.pathname) return '';
  return target.pathname.startsWith(`${base.pathname}/`) ? target.pathname.slice(base.pathname.length + 1) : undefined;
}

/** Focused tabs first, then visible ones: they answer fastest. */
function byReadiness(clients: readonly BridgeClient[]): BridgeClient[] {
  const rank = (c: BridgeClient) => (c.focused ? 0 : c.visibilityState === 'visible' ? 1 : 2);
  return [...clients].sort((a, b) => rank(a) - rank(b));
}

/**
 * Offers the request to one tab; resolves with the port if it accepts, else whether it declined or stayed
 * silent for `ackWindow()` ms (read again when it runs out: requests arriving meanwhile widen it).
 */
function offer(client: BridgeClient, head: BridgeHead, ackWindow: () => number): Promise<MessagePort | 'declined' | 'silent'> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (answer: MessagePort | 'declined' | 'silent') => {
      clearTimeout(timer);
      channel.port1.onmessage = null;
      if (typeof answer === 'string') channel.port1.close();
      resolve(answer);
    };
    const wait = () => {
      const left = started + ackWindow() - Date.now();
      if (left > 0) timer = setTimeout(wait, left);
      else done('silent');
    };
    wait();
    channel.port1.onmessage = (event: MessageEvent<FromHost>) => {
      if (event.data?.kind === 'ack') done(channel.port1);
      else if (event.data?.kind === 'decline') done('declined');
    };
    try {
      client.postMessage(head, [channel.port2]);
    } catch {
      done('declined');
    }
  });
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** Sends the body to the tab that accepted, pings it while it works, and relays its response. */
function exchange(port: MessagePort, body: ArrayBuffer, timings: BridgeTimings): Promise<Response> {
  return new Promise((resolve) => {
    let heard = Date.now();
    const finish = (response: Response) => {
      clearInterval(pinger);
      clearTimeout(deadline);
      port.onmessage = null;
      port.close();
      resolve(response);
    };
    port.onmessage = (event: MessageEvent<FromHost>) => {
      heard = Date.now();
      const message = event.data;
      if (message?.kind === 'response') {
        finish(new Response(NULL_BODY.has(message.status) ? null : message.body, { status: message.status, headers: message.headers }));
      }
    };
    const pinger = setInterval(() => {
      if (Date.now() - heard > timings.silenceMs) {
        finish(errorResponse(504, 'studio_timeout', `The studio tab serving this request stopped answering for ${timings.silenceMs / 1000} s (closed or frozen); try again.`));
      } else {
        port.postMessage({ kind: 'ping' });
      }
    }, timings.pingEveryMs);
    const deadline = setTimeout(
      () => finish(errorResponse(504, 'studio_timeout', `The studio did not answer within ${timings.totalMs / 1000} s.`)),
      timings.totalMs,
    );
    port.postMessage({ kind: 'body', body }, [body]);
  });
}

/**
 * Forwards an API request to a studio tab and returns its answer.
 * @example registerRoute(({ url }) => apiRouteFor(url.href, scope) !== undefined, ({ request }) => forwardToStudio(request, route, { clients }))
 */
export async function forwardToStudio(request: Request, route: string, options: BridgeOptions): Promise<Response> {
  // Counted from the fetch event on: the worker's own backlog delays the tabs' acknowledgements too.
  relaying++;
  try {
    return await relay(request, route, options);
  } finally {
    relaying--;
  }
}

/**
 * A request's body, read only up to `limit` bytes: refused from its Content-Length when that says more,
 * else counted as it streams in (no Content-Length, or one that understates) and cancelled past the limit.
 * @returns the body, or why it is too large (the 413's detail)
 */
export async function readBodyWithin(request: Request, limit: number): Promise<ArrayBuffer | { tooLarge: string }> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return { tooLarge: `is ${declared} bytes; the limit is ${limit}` };
  if (!request.body) return new ArrayBuffer(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return { tooLarge: `is more than ${limit} bytes (reading stopped there); the limit is ${limit}` };
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body.buffer;
}

async function relay(request: Request, route: string, options: BridgeOptions): Promise<Response> {
  const timings: BridgeTimings = { ...DEFAULT_BRIDGE_TIMINGS, ...options };
  const method = request.method.toUpperCase();
  let body = new ArrayBuffer(0);
  if (method !== 'GET' && method !== 'HEAD') {
    const { maxBodyBytes = MAX_FORWARDED_BYTES } = options;
    const limit = typeof maxBodyBytes === 'function' ? await maxBodyBytes() : maxBodyBytes;
    const read = await readBodyWithin(request, limit);
    if (!(read instanceof ArrayBuffer)) return errorResponse(413, 'payload_too_large', `body: ${read.tooLarge}`, 'body');
    body = read;
  }
  const head: BridgeHead = {
    type: BRIDGE_MESSAGE,
    id: Math.random().toString(36).slice(2),
    method,
    url: request.url,
    route,
    headers: FORWARDED_HEADERS.flatMap((name) => {
      const value = request.headers.get(name);
      return value === null ? [] : [[name, value] as [string, string]];
    }),
  };
  const ackWindow = () => timings.ackMs + (relaying - 1) * (options.ackMsPerRequestInFlight ?? ACK_MS_PER_REQUEST_IN_FLIGHT);
  let silent = 0;
  for (const client of byReadiness(await options.clients())) {
    const answer = await offer(client, head, ackWindow);
    if (answer === 'silent') silent++;
    else if (answer !== 'declined') return exchange(answer, body, timings);
  }
  // Open tabs that stayed silent are busy (a burst of requests), frozen or still loading: "no tab" would mislead.
  const message = silent > 0 ? busyTabsMessage(silent, ackWindow()) : NO_STUDIO_TAB_MESSAGE;
  return errorResponse(503, 'no_studio_tab', message, undefined, { 'retry-after': '5' });
}
