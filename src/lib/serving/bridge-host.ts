import { responseForError } from './errors';
import type { BridgeHead, FromHost, ToHost } from './protocol';
import type { RestHandler } from './rest';

/** The studio tab's half of the REST bridge (see `protocol.ts`); plain TS, tested in Node. */
export interface BridgeHostOptions {
  handler: RestHandler;
  /** Whether this tab serves now; a tab that does not declines, and the worker asks the next one. */
  enabled?: () => boolean | Promise<boolean>;
  /** How long to wait for the body after accepting. */
  bodyWaitMs?: number;
}

/**
 * Serves one forwarded request on its port: accept (or decline), receive the body, answer pings while
 * the handler works, post the response.
 */
export async function serveBridgeRequest(head: BridgeHead, port: MessagePort, options: BridgeHostOptions): Promise<void> {
  const send = (message: FromHost, transfer: Transferable[] = []) => port.postMessage(message, transfer);
  let enabled = true;
  try {
    enabled = await (options.enabled?.() ?? true);
  } catch {
    // An unreadable setting must not stop serving: the default is on.
  }
  if (!enabled) {
    send({ kind: 'decline', reason: 'REST serving is turned off in this tab' });
    port.close();
    return;
  }
  const body = await new Promise<ArrayBuffer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), options.bodyWaitMs ?? 30_000);
    port.onmessage = (event: MessageEvent<ToHost>) => {
      const message = event.data;
      if (message?.kind === 'ping') send({ kind: 'pong' });
      else if (message?.kind === 'body') {
        clearTimeout(timer);
        resolve(message.body);
      }
    };
    send({ kind: 'ack' });
  });
  if (!body) {
    port.onmessage = null;
    port.close();
    return;
  }
  let response: Response;
  try {
    const hasBody = head.method !== 'GET' && head.method !== 'HEAD';
    const request = new Request(head.url, { method: head.method, headers: head.headers, body: hasBody ? body : undefined });
    response = await options.handler(request, head.route);
  } catch (error) {
    response = responseForError(error);
  }
  const buffer = await response.arrayBuffer();
  send({ kind: 'response', status: response.status, headers: [...response.headers], body: buffer }, [buffer]);
  port.onmessage = null;
  port.close();
}
