import { IDBObjectStore, IDBTransaction } from 'fake-indexeddb';

/**
 * A storage quota for fake-indexeddb that refuses writes the way Chromium does: requests succeed, and
 * the transaction that would take usage past the quota aborts at commit with a `QuotaExceededError`
 * (so Dexie reports an `AbortError` whose `inner` is the DOMException, as it does in the browser).
 * Usage grows by the approximate size of what committed transactions added; deletes are not credited,
 * which only makes the fake stricter than a browser.
 */
export interface FakeQuota {
  usage: number;
  /** Bytes the origin may use; `Infinity` turns the limit off ("quota restored"). */
  quota: number;
  /** Transactions refused so far. */
  refused: number;
  uninstall(): void;
}

/** Approximate stored size: blob and buffer bytes, 2 bytes per string character, 8 per number. */
export function sizeOf(value: unknown): number {
  if (value instanceof Blob) return value.size;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value === 'string') return value.length * 2;
  if (typeof value === 'number' || typeof value === 'boolean') return 8;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + sizeOf(item), 0);
  if (value && typeof value === 'object') return Object.entries(value).reduce((sum, [key, item]) => sum + key.length * 2 + sizeOf(item), 0);
  return 0;
}

interface FakeTransaction {
  _state: string;
  _requests: { request: { readyState: string } }[];
  error: unknown;
  _abort(name: string | null): void;
  _start(): void;
}

export function installFakeQuota(quota = Infinity): FakeQuota {
  const storeProto = IDBObjectStore.prototype as unknown as Record<'put' | 'add', (value: unknown, key?: unknown) => unknown> & { transaction: FakeTransaction };
  const txProto = IDBTransaction.prototype as unknown as FakeTransaction;
  const original = { put: storeProto.put, add: storeProto.add, start: txProto._start };
  const pending = new WeakMap<object, number>();
  const state: FakeQuota = {
    usage: 0,
    quota,
    refused: 0,
    uninstall() {
      storeProto.put = original.put;
      storeProto.add = original.add;
      txProto._start = original.start;
    },
  };
  for (const method of ['put', 'add'] as const) {
    storeProto[method] = function (this: { transaction: FakeTransaction }, value: unknown, key?: unknown) {
      const request = original[method].call(this, value, key);
      pending.set(this.transaction, (pending.get(this.transaction) ?? 0) + sizeOf(value));
      return request;
    };
  }
  // fake-indexeddb commits in `_start` once no request is left: that is where a browser checks the quota.
  txProto._start = function (this: FakeTransaction) {
    const bytes = pending.get(this) ?? 0;
    const committing = this._state !== 'finished' && !this.error && this._requests.every((r) => r.request.readyState === 'done');
    if (committing && bytes > 0) {
      pending.delete(this);
      if (state.usage + bytes > state.quota) {
        state.refused++;
        this._abort('QuotaExceededError');
        return;
      }
      state.usage += bytes;
    }
    original.start.call(this);
  };
  return state;
}
