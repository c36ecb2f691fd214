import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerClient, WorkerCrashedError, releaseRemote, type WorkerLike } from '../../../src/lib/workers/client';
import type { ProgressEvent } from '../../../src/lib/progress';

interface EchoApi {
  echo(value: string): Promise<string>;
  sum(buffer: ArrayBuffer): Promise<number>;
  never(): Promise<void>;
  count(to: number, onProgress: (e: ProgressEvent) => void): Promise<number>;
}

/** A worker stand-in: the API runs on the other end of a MessageChannel, in this thread. */
class FakeWorker extends EventTarget {
  terminated = false;
  readonly #channel = new MessageChannel();
  readonly port = this.#channel.port2;

  constructor(api: EchoApi) {
    super();
    Comlink.expose(api, this.#channel.port1 as unknown as Comlink.Endpoint);
  }
  postMessage(message: unknown, transfer?: Transferable[]) {
    this.port.postMessage(message, transfer as never);
  }
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject) {
    if (type !== 'message') return super.addEventListener(type, listener);
    (this.port as unknown as EventTarget).addEventListener(type, listener);
    this.port.start();
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject) {
    if (type === 'message') (this.port as unknown as EventTarget).removeEventListener(type, listener);
    else super.removeEventListener(type, listener);
  }
  terminate() {
    this.terminated = true;
    this.port.close();
  }
  crash(message: string) {
    const event = Object.assign(new Event('error'), { message });
    this.dispatchEvent(event);
  }
}

const echoApi: EchoApi = {
  echo: async (value) => `echo:${value}`,
  sum: async (buffer) => new Uint8Array(buffer).reduce((a, b) => a + b, 0),
  never: () => new Promise(() => {}),
  count: async (to, onProgress) => {
    for (let i = 1; i <= to; i++) await onProgress({ kind: 'progress', label: 'count', done: i, total: to });
    releaseRemote(onProgress);
    return to;
  },
};

describe('WorkerClient', () => {
  const spawned: FakeWorker[] = [];
  const client = () =>
    new WorkerClient<EchoApi>('trainer', () => {
      const worker = new FakeWorker(echoApi);
      spawned.push(worker);
      return worker as unknown as WorkerLike;
    });
  afterEach(() => {
    for (const worker of spawned.splice(0)) worker.terminate();
  });

  it('round-trips a call to the worker', async () => {
    await expect(client().api().echo('hi')).resolves.toBe('echo:hi');
  });

  it('transfers large buffers instead of copying them', async () => {
    const buffer = new Uint8Array(8 * 1024 * 1024).fill(1).buffer;
    await expect(client().api().sum(Comlink.transfer(buffer, [buffer]))).resolves.toBe(8 * 1024 * 1024);
    expect(buffer.byteLength).toBe(0); // detached: ownership moved to the worker
  });

  it('delivers typed progress events through a proxied callback', async () => {
    const events: ProgressEvent[] = [];
    await expect(client().api().count(3, Comlink.proxy((e: ProgressEvent) => void events.push(e)))).resolves.toBe(3);
    expect(events.map((e) => (e.kind === 'progress' ? e.done : -1))).toEqual([1, 2, 3]);
  });

  it('rejects calls in flight with a clear error when the worker crashes, instead of hanging', async () => {
    const c = client();
    const crashes: WorkerCrashedError[] = [];
    c.onCrash((e) => crashes.push(e));
    const pending = c.api().never();
    spawned[0]!.crash('out of memory');
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toBe(
      'The trainer worker stopped unexpectedly: out of memory. It will be restarted on the next request.',
    );
    expect(crashes).toHaveLength(1);
    expect(spawned[0]!.terminated).toBe(true);
  });

  it('starts a fresh worker on the next call after a crash', async () => {
    const c = client();
    await c.api().echo('first');
    spawned[0]!.crash('boom');
    await expect(c.api().echo('second')).resolves.toBe('echo:second');
    expect(spawned).toHaveLength(2);
  });

  it('rejects calls in flight when terminated on purpose', async () => {
    const c = client();
    const pending = c.api().never();
    c.terminate('cancelled by the user');
    await expect(pending).rejects.toThrow('cancelled by the user');
  });
});
