/**
 * The service worker ⇄ studio tab protocol of the REST bridge. The worker posts a request head to a
 * tab with a MessagePort; everything else goes over that port:
 *
 *   worker → tab   head (on the client, with the port)
 *   tab → worker   ack | decline              (within ackMs, or the worker tries the next tab)
 *   worker → tab   body
 *   worker → tab   ping …  tab → worker pong … (the tab is alive; silence past silenceMs → 504)
 *   tab → worker   response
 *
 * The tab answers pings from its message handler, not from timers, so background-tab timer
 * throttling cannot make a working tab look dead.
 */
export const BRIDGE_MESSAGE = 'loupe-rest-request';

export interface BridgeHead {
  type: typeof BRIDGE_MESSAGE;
  id: string;
  method: string;
  url: string;
  /** The path under the API root, e.g. `models/coin-year/invocations`. */
  route: string;
  headers: [string, string][];
}

export type ToHost = { kind: 'body'; body: ArrayBuffer } | { kind: 'ping' };

export type FromHost =
  | { kind: 'ack' }
  | { kind: 'decline'; reason: string }
  | { kind: 'pong' }
  | { kind: 'response'; status: number; headers: [string, string][]; body: ArrayBuffer };

export interface BridgeTimings {
  /** How long a tab has to accept a request before the next tab is asked. */
  ackMs: number;
  pingEveryMs: number;
  /** A tab that has answered nothing (no pong) for this long is gone: 504. */
  silenceMs: number;
  /** No request takes longer than this: 504. */
  totalMs: number;
}

export const DEFAULT_BRIDGE_TIMINGS: BridgeTimings = { ackMs: 2000, pingEveryMs: 2000, silenceMs: 10_000, totalMs: 300_000 };

/** Request headers worth forwarding to the tab. */
export const FORWARDED_HEADERS = ['accept', 'content-type', 'content-length'];

export function isBridgeHead(value: unknown): value is BridgeHead {
  const head = value as Partial<BridgeHead> | null;
  return typeof head === 'object' && head !== null && head.type === BRIDGE_MESSAGE && typeof head.route === 'string' && typeof head.url === 'string';
}
