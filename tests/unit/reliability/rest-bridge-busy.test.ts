import { describe, expect, it } from 'vitest';
import { forwardToStudio, NO_STUDIO_TAB_MESSAGE, type BridgeClient } from '../../../src/lib/serving/bridge';
import { serveBridgeRequest } from '../../../src/lib/serving/bridge-host';
import type { BridgeHead, FromHost } from '../../../src/lib/serving/protocol';

const timings = { ackMs: 40, pingEveryMs: 20, silenceMs: 200, totalMs: 1000 };
const request = () => new Request('http://studio.test/app/api/predict', { method: 'POST', body: '{"text":"great"}' });

/** A tab that never answers (busy with a burst, frozen, or still loading). */
const busyTab = (id: string): BridgeClient => ({ id, postMessage: () => {} });
/** A tab with REST serving turned off. */
const offTab = (id: string): BridgeClient => ({
  id,
  postMessage: (_message, transfer) => (transfer[0] as MessagePort).postMessage({ kind: 'decline', reason: 'off' } satisfies FromHost),
});

/**
 * Issue #13, 500+ requests in flight: when the open tabs are too busy to accept a request in time, the
 * 503 says so instead of claiming that no studio tab is open.
 */
describe('the REST bridge when studio tabs are busy', () => {
  async function answer(clients: BridgeClient[]) {
    const response = await forwardToStudio(request(), 'predict', { clients: async () => clients, ...timings });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { error: { code: string; message: string } } };
  }

  it('answers 503 naming the busy tab and the window it had, with a retry hint', async () => {
    const { status, retryAfter, body } = await answer([busyTab('a')]);
    expect({ status, retryAfter, code: body.error.code }).toEqual({ status: 503, retryAfter: '5', code: 'no_studio_tab' });
    expect(body.error.message).toBe(
      'The studio tab did not accept the request within 0.04 s (busy with other requests, frozen, or still loading); try again, or open Loupe in a tab with REST serving on.',
    );
  });

  it('counts only the silent tabs, and keeps "no studio tab" for tabs that all declined or none at all', async () => {
    await expect(answer([busyTab('a'), offTab('b'), busyTab('c')])).resolves.toMatchObject({ body: { error: { message: expect.stringMatching(/^2 studio tabs did not accept/) } } });
    await expect(answer([offTab('b')])).resolves.toMatchObject({ status: 503, body: { error: { message: NO_STUDIO_TAB_MESSAGE } } });
    await expect(answer([])).resolves.toMatchObject({ status: 503, body: { error: { message: NO_STUDIO_TAB_MESSAGE } } });
  });

  it('gives a tab more time to accept for each request already in flight, so a burst is served', async () => {
    // A tab that reads each head only after 80 ms of other work, then serves it.
    const slowTab: BridgeClient = {
      id: 'slow',
      postMessage: (head, transfer) =>
        void setTimeout(() => void serveBridgeRequest(head as BridgeHead, transfer[0] as MessagePort, { handler: async () => Response.json({ label: 'positive' }) }), 80),
    };
    const send = () => forwardToStudio(request(), 'predict', { clients: async () => [slowTab], ...timings, ackMsPerRequestInFlight: 100 });
    // Alone, 80 ms is past the 40 ms window.
    const alone = await send();
    expect(alone.status).toBe(503);
    await expect(alone.json()).resolves.toMatchObject({ error: { message: expect.stringContaining('within 0.04 s') } });
    // Two in flight: each has 140 ms, and both are served.
    const pair = await Promise.all([send(), send()]);
    expect(pair.map((r) => r.status)).toEqual([200, 200]);
    await expect(pair[1]!.json()).resolves.toEqual({ label: 'positive' });
    // A request already waiting gets the wider window when others arrive after it.
    const first = send();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const later = await Promise.all([first, send()]);
    expect(later.map((r) => r.status)).toEqual([200, 200]);
    // Once the burst is over the window is back to its base.
    await expect(send().then((r) => r.status)).resolves.toBe(503);
  });
});
