import * as Comlink from 'comlink';
import type { WorkerKind } from './types';

export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
  constructor(
    readonly worker: WorkerKind,
    reason: string,
  ) {
    super(`The ${worker} worker stopped unexpectedly: ${reason}. It will be restarted on the next request.`);
  }
}

type ThrowHandler = Comlink.TransferHandler<{ value: unknown }, { isError: boolean; value: unknown }>;
const KEEPS = Symbol('loupe.keepsErrorDetails');

/**
 * Makes errors thrown in a worker keep their own plain fields (strings, numbers, booleans) on the way
 * to the page. Comlink sends only an Error's name, message and stack; a named error's details (an
 * `ImageDecodeError`'s `sample` and `image`, which say which request field to name) would be lost.
 * Call it on both sides (the worker's entry and the page); it is idempotent.
 */
export function keepErrorDetails(): void {
  const base = Comlink.transferHandlers.get('throw') as ThrowHandler | undefined;
  if (!base || (base as ThrowHandler & { [KEEPS]?: true })[KEEPS]) return;
  const handler: ThrowHandler & { [KEEPS]: true } = {
    [KEEPS]: true,
    canHandle: base.canHandle,
    serialize(thrown) {
      const [serialized, transfer] = base.serialize(thrown);
      if (serialized.isError && thrown.value instanceof Error) serialized.value = { ...errorDetails(thrown.value), ...(serialized.value as object) };
      return [serialized, transfer];
    },
    deserialize: base.deserialize,
  };
  Comlink.transferHandlers.set('throw', handler as Comlink.TransferHandler<unknown, unknown>);
}

/** An error's own enumerable fields that are plain values (what structured clone always carries). */
export function errorDetails(error: Error): Record<string, string | number | boolean> {
  const details: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') details[key] = value;
  }
  return details;
}

/** The part of `Worker` the client needs; tests pass a fake. */
export type WorkerLike = Pick<Worker, 'postMessage' | 'terminate' | 'addEventListener' | 'removeEventListener'>;

/**
 * A comlink connection to a worker that never hangs: if the worker dies (an uncaught error, a module
 * that fails to load, a message that cannot be decoded, or `terminate()`), every call in flight and
 * every later call rejects with `WorkerCrashedError`, and the next `api()` starts a fresh worker.
 */
export class WorkerClient<Api extends object> {
  #spawn: () => WorkerLike;
  #current?: { worker: WorkerLike; api: Comlink.Remote<Api>; crashed: Promise<never>; crash: (e: Error) => void };
  #listeners = new Set<(error: WorkerCrashedError) => void>();

  constructor(
    readonly kind: WorkerKind,
    spawn: () => WorkerLike,
  ) {
    this.#spawn = spawn;
    keepErrorDetails();
  }

  /** The worker's API; every method call rejects instead of hanging if the worker dies meanwhile. */
  api(): Comlink.Remote<Api> {
    return this.#connect().api;
  }

  /** Subscribe to crashes (the UI shows them); returns the unsubscribe function. */
  onCrash(listener: (error: WorkerCrashedError) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops the worker; calls in flight reject. */
  terminate(reason = 'terminated'): void {
    this.#current?.crash(new WorkerCrashedError(this.kind, reason));
  }

  #connect() {
    if (this.#current) return this.#current;
    const worker = this.#spawn();
    let crash!: (error: Error) => void;
    const crashed = new Promise<never>((_, reject) => (crash = reject));
    crashed.catch(() => {}); // observed through the guarded calls; avoid an unhandled rejection here
    const onError = (event: Event) => {
      const { message } = event as Partial<ErrorEvent>;
      fail(new WorkerCrashedError(this.kind, message || 'the worker failed to load or threw'));
    };
    const onMessageError = () => fail(new WorkerCrashedError(this.kind, 'a message could not be decoded'));
    const fail = (error: Error) => {
      if (this.#current?.worker !== worker) return;
      this.#current = undefined;
      worker.removeEventListener('error', onError);
      worker.removeEventListener('messageerror', onMessageError);
      worker.terminate();
      crash(error);
      if (error instanceof WorkerCrashedError) for (const listener of this.#listeners) listener(error);
    };
    worker.addEventListener('error', onError);
    worker.addEventListener('messageerror', onMessageError);
    const remote = Comlink.wrap<Api>(worker as unknown as Comlink.Endpoint);
    const api = guard(remote, crashed);
    this.#current = { worker, api, crashed, crash: fail };
    return this.#current;
  }
}

/**
 * Wraps each method call of a comlink remote so that it rejects if the worker dies meanwhile. A call
 * listens for the death only while it is pending: `Promise.race([call, crashed])` would leave one
 * reaction on the never-settling `crashed` per call, holding that call's result for the worker's life
 * (about 0.4 KB per prediction in the REST soak, scripts/soak).
 */
function guard<Api extends object>(remote: Comlink.Remote<Api>, crashed: Promise<never>): Comlink.Remote<Api> {
  let death: { error: unknown } | undefined;
  const pending = new Set<(error: unknown) => void>();
  crashed.catch((error: unknown) => {
    death = { error };
    for (const reject of pending) reject(error);
    pending.clear();
  });
  return new Proxy(remote, {
    get(target, property) {
      const member = Reflect.get(target, property) as unknown;
      if (typeof member !== 'function' || property === 'then') return member;
      return (...args: unknown[]) =>
        new Promise((resolve, reject) => {
          if (death) return reject(death.error);
          const call = (member as (...a: unknown[]) => Promise<unknown>)(...args);
          pending.add(reject);
          call.then(resolve, reject).finally(() => pending.delete(reject));
        });
    },
  });
}

/**
 * Releases a comlink remote received from the other side (e.g. a progress callback passed with
 * `Comlink.proxy`), closing its message port. A plain function (as in Node tests) is left alone.
 */
export function releaseRemote(value: unknown): void {
  const release = (value as { [Comlink.releaseProxy]?: unknown } | undefined)?.[Comlink.releaseProxy];
  if (typeof release === 'function') (release as () => void)();
}
