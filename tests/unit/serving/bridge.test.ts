import { afterEach, describe, expect, it } from 'vitest';
import { apiRouteFor, forwardToStudio, NO_STUDIO_TAB_MESSAGE, type BridgeClient } from '../../../src/lib/serving/bridge';
import { serveBridgeRequest } from '../../../src/lib/serving/bridge-host';
import { isBridgeHead, type BridgeTimings } from '../../../src/lib/serving/protocol';
import { createRestHandler, type RestHandler } from '../../../src/lib/serving/rest';
import { ServingSdk } from '../../../src/lib/serving/sdk';
import { DEFAULT_SERVING_LIMITS } from '../../../src/lib/serving/types';
import { makeDb } from '../factories';
import { addVersion, b64, fakePredictors, PNG, promote } from './fakes';

const timings: BridgeTimings = { ackMs: 60, pingEveryMs: 20, silenceMs: 150, totalMs: 3000 };
const openPorts: MessagePort[] = [];
afterEach(() => {
  for (const port of openPorts.splice(0)) port.close();
});

/** A window client running the studio's REST host. */
function studioTab(id: string, handler: RestHandler, options: { focused?: boolean; enabled?: boolean } = {}) {
  const served: string[] = [];
  const client: BridgeClient = {
    id,
    focused: options.focused ?? false,
    visibilityState: options.focused ? 'visible' : 'hidden',
    postMessage(message, transfer) {
      const port = transfer[0] as MessagePort;
      openPorts.push(port);
      if (!isBridgeHead(message)) return;
      served.push(message.route);
      void serveBridgeRequest(message, port, { handler, enabled: () => options.enabled ?? true });
    },
  };
  return { client, served };
}

/** A window without the host (another page of the origin, a tab still loading): it never answers. */
const silentTab = (id: string): BridgeClient => ({ id, postMessage: (_, transfer) => void openPorts.push(transfer[0] as MessagePort) });

const echo: RestHandler = async (request, route) =>
  new Response(JSON.stringify({ route, method: request.method, body: request.method === 'POST' ? await request.text() : null }), {
    status: 201,
    headers: { 'content-type': 'application/json', 'x-extra': 'kept' },
  });

const request = (path: string, init?: RequestInit) => new Request(`http://127.0.0.1:4173/app/api/${path}`, init);

describe('apiRouteFor', () => {
  it('matches API paths under the service worker scope only', () => {
    const scope = 'http://127.0.0.1:4173/app/';
    expect(apiRouteFor('http://127.0.0.1:4173/app/api/models/coin-year/invocations', scope)).toBe('models/coin-year/invocations');
    expect(apiRouteFor('http://127.0.0.1:4173/app/api', scope)).toBe('');
    expect(apiRouteFor('http://127.0.0.1:4173/app/api/ping?x=1', scope)).toBe('ping');
    expect(apiRouteFor('http://127.0.0.1:4173/api/ping', scope)).toBeUndefined();
    expect(apiRouteFor('http://127.0.0.1:4173/app/apiary', scope)).toBeUndefined();
    expect(apiRouteFor('http://other.test/app/api/ping', scope)).toBeUndefined();
  });
});

describe('forwardToStudio', () => {
  it('relays a request to a studio tab and its response back (status, headers, body)', async () => {
    const tab = studioTab('a', echo);
    const response = await forwardToStudio(request('models/x/invocations', { method: 'POST', body: '{"inputs":[1]}' }), 'models/x/invocations', {
      clients: async () => [tab.client],
      ...timings,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-extra')).toBe('kept');
    await expect(response.json()).resolves.toEqual({ route: 'models/x/invocations', method: 'POST', body: '{"inputs":[1]}' });
  });

  it('serves real predictions end to end through the REST handler', async () => {
    const db = makeDb();
    await addVersion(db, 'car-damage', 3);
    await promote(db, 'car-damage', 3);
    const sdk = new ServingSdk({ db, predictors: fakePredictors().factory });
    const tab = studioTab('a', createRestHandler({ sdk, limits: async () => DEFAULT_SERVING_LIMITS }));
    const body = JSON.stringify({ inputs: [{ image_base64: b64(PNG) }] });
    const response = await forwardToStudio(request('models/car-damage/invocations', { method: 'POST', body }), 'models/car-damage/invocations', {
      clients: async () => [tab.client],
      ...timings,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('loupe-model-version')).toBe('3');
    await expect(response.json()).resolves.toMatchObject({ predictions: [{ label: 'negative' }] });
  });

  it('answers 503 at once when no window is open', async () => {
    const started = Date.now();
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [], ...timings });
    expect(Date.now() - started).toBeLessThan(timings.ackMs);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    await expect(response.json()).resolves.toEqual({
      error: { code: 'no_studio_tab', message: NO_STUDIO_TAB_MESSAGE },
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: NO_STUDIO_TAB_MESSAGE,
    });
  });

  it('answers 503 after the ack timeout when no window answers, instead of hanging', async () => {
    const started = Date.now();
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [silentTab('x'), silentTab('y')], ...timings });
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * timings.ackMs - 5);
    await expect(response.json()).resolves.toMatchObject({ error: { message: expect.stringContaining('open Loupe in a tab') } });
  });

  it('asks the focused tab first and only one tab serves a request', async () => {
    const background = studioTab('background', echo);
    const focused = studioTab('focused', echo, { focused: true });
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [background.client, focused.client], ...timings });
    expect(response.status).toBe(201);
    expect(focused.served).toEqual(['ping']);
    expect(background.served).toEqual([]);
  });

  it('moves on past windows that stay silent or decline', async () => {
    const off = studioTab('off', echo, { focused: true, enabled: false });
    const on = studioTab('on', echo);
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [off.client, silentTab('loading'), on.client], ...timings });
    expect(response.status).toBe(201);
    expect(off.served).toEqual(['ping']); // asked, declined
    expect(on.served).toEqual(['ping']);
    // A tab with serving turned off declines at once; if it is the only one, the answer is 503 without waiting.
    const started = Date.now();
    const alone = await forwardToStudio(request('ping'), 'ping', { clients: async () => [off.client], ...timings });
    expect(alone.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(timings.ackMs);
  });

  it('waits for a slow tab that keeps answering pings', async () => {
    const slow: RestHandler = async () => {
      await new Promise((resolve) => setTimeout(resolve, timings.silenceMs * 3));
      return new Response('{"done":true}', { status: 200 });
    };
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [studioTab('a', slow).client], ...timings });
    expect(response.status).toBe(200);
  });

  it('answers 504 when the tab that accepted falls silent (closed mid-request)', async () => {
    const vanishing: BridgeClient = {
      id: 'gone',
      postMessage(_, transfer) {
        const port = transfer[0] as MessagePort;
        openPorts.push(port);
        port.onmessage = () => {}; // accepts, then never answers again
        port.postMessage({ kind: 'ack' });
      },
    };
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [vanishing], ...timings });
    expect(response.status).toBe(504);
    await expect(response.json()).resolves.toMatchObject({ error: { code: 'studio_timeout' }, error_code: 'DEADLINE_EXCEEDED' });
  });

  it('answers 504 when a request takes longer than the total limit', async () => {
    const never: RestHandler = () => new Promise(() => {});
    const response = await forwardToStudio(request('ping'), 'ping', {
      clients: async () => [studioTab('a', never).client],
      ...timings,
      totalMs: 200,
    });
    expect(response.status).toBe(504);
  });

  it('refuses a body over its ceiling with 413 without asking any tab', async () => {
    const tab = studioTab('a', echo);
    const response = await forwardToStudio(request('predict', { method: 'POST', body: 'x'.repeat(100) }), 'predict', {
      clients: async () => [tab.client],
      maxBodyBytes: 50,
      ...timings,
    });
    expect(response.status).toBe(413);
    expect(tab.served).toEqual([]);
  });

  /** A body of `chunks` × `chunkBytes` that records how much of it was pulled, and whether it was cancelled. */
  function streamedBody(chunks: number, chunkBytes: number) {
    const seen = { pulled: 0, cancelled: false };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (seen.pulled === chunks) return controller.close();
        seen.pulled++;
        controller.enqueue(new Uint8Array(chunkBytes).fill(120));
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    return { body, seen };
  }

  it('answers an oversized request 413 itself while the only tab is too busy to accept anything', async () => {
    const offered: string[] = [];
    const busy: BridgeClient = { id: 'busy', postMessage: (_, transfer) => (offered.push('busy'), void openPorts.push(transfer[0] as MessagePort)) };
    const oversized = streamedBody(10, 1000);
    const started = Date.now();
    const response = await forwardToStudio(
      request('predict', { method: 'POST', headers: { 'content-length': '10000' }, body: oversized.body, duplex: 'half' } as RequestInit),
      'predict',
      { clients: async () => [busy], maxBodyBytes: async () => 4096, ...timings },
    );
    expect(response.status).toBe(413);
    expect(Date.now() - started).toBeLessThan(timings.ackMs); // no acknowledgement window was waited for
    await expect(response.json()).resolves.toMatchObject({ error_code: 'REQUEST_LIMIT_EXCEEDED', error: { code: 'payload_too_large', field: 'body', message: 'body: is 10000 bytes; the limit is 4096' } });
    expect(offered).toEqual([]);
    expect(oversized.seen.pulled).toBeLessThanOrEqual(1); // refused from its Content-Length, the body left unread
  });

  it.each([
    ['no Content-Length', undefined],
    ['a Content-Length that understates it', '100'],
  ])('counts a streamed body with %s as it arrives, and stops reading at the limit', async (_, declared) => {
    const tab = studioTab('a', echo);
    const oversized = streamedBody(1000, 1000); // 1 MB, where 4 KiB are allowed
    const headers: Record<string, string> = declared ? { 'content-length': declared } : {};
    const response = await forwardToStudio(request('predict', { method: 'POST', headers, body: oversized.body, duplex: 'half' } as RequestInit), 'predict', {
      clients: async () => [tab.client],
      maxBodyBytes: 4096,
      ...timings,
    });
    expect(response.status).toBe(413);
    await expect(response.json()).resolves.toMatchObject({ error: { field: 'body', message: 'body: is more than 4096 bytes (reading stopped there); the limit is 4096' } });
    expect(tab.served).toEqual([]);
    expect(oversized.seen.pulled).toBeLessThan(10);
    expect(oversized.seen.cancelled).toBe(true);
  });

  it('forwards a streamed body within the limit whole', async () => {
    const tab = studioTab('a', echo);
    const within = streamedBody(4, 1000);
    const response = await forwardToStudio(request('predict', { method: 'POST', body: within.body, duplex: 'half' } as RequestInit), 'predict', {
      clients: async () => [tab.client],
      maxBodyBytes: 4096,
      ...timings,
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { body: string }).body).toBe('x'.repeat(4000));
  });

  it('turns a handler that throws into a 500 with a JSON error', async () => {
    const broken: RestHandler = async () => {
      throw new Error('boom');
    };
    const response = await forwardToStudio(request('ping'), 'ping', { clients: async () => [studioTab('a', broken).client], ...timings });
    expect(response.status).toBe(500);
    await expect(response.json()).resolves.toMatchObject({ error: { message: expect.stringContaining('boom') } });
  });
});
