// Relative, like everything src/sw.ts imports.
import { DEFAULT_SERVING_LIMITS } from '../db/settings-shapes';

/**
 * The request limit as the service worker reads it: the `serving` setting's `maxBodyBytes`, straight
 * from IndexedDB with no Dexie (the worker stays small) and no tab involved, so an oversized request is
 * answered 413 whatever the tabs are doing. Shared with Node tests over fake-indexeddb.
 */

/** The studio's database (`$lib/db/db`'s `DB_NAME`; a unit test keeps them equal). */
export const STUDIO_DB_NAME = 'loupe';

/** `maxBodyBytes` of the stored `serving` setting; the default when there is none or it cannot be read. */
export function readStoredBodyLimit(factory: IDBFactory): Promise<number> {
  const fallback = DEFAULT_SERVING_LIMITS.maxBodyBytes;
  return new Promise((resolve) => {
    let open: IDBOpenDBRequest;
    try {
      open = factory.open(STUDIO_DB_NAME);
    } catch {
      resolve(fallback);
      return;
    }
    // No database yet: create none (the studio creates it with its schema); the abort fails the open.
    open.onupgradeneeded = () => open.transaction?.abort();
    open.onerror = (event) => {
      event.preventDefault();
      resolve(fallback);
    };
    open.onsuccess = () => {
      const db = open.result;
      const done = (limit: number) => {
        db.close();
        resolve(limit);
      };
      try {
        if (!db.objectStoreNames.contains('settings')) return done(fallback);
        const get = db.transaction('settings').objectStore('settings').get('serving');
        get.onsuccess = () => {
          const limit = (get.result as { value?: { maxBodyBytes?: unknown } } | undefined)?.value?.maxBodyBytes;
          done(typeof limit === 'number' && Number.isFinite(limit) && limit > 0 ? limit : fallback);
        };
        get.onerror = () => done(fallback);
      } catch {
        done(fallback);
      }
    };
  });
}

/**
 * `read`, called at most once per `ttlMs` (a burst of requests shares one read; a changed setting applies
 * within `ttlMs` — the tab checks the current one again anyway).
 * @example maxBodyBytes: cachedLimit(() => readStoredBodyLimit(indexedDB))
 */
export function cachedLimit(read: () => Promise<number>, ttlMs = 1000, now: () => number = Date.now): () => Promise<number> {
  let cached: { at: number; limit: Promise<number> } | undefined;
  return () => {
    if (!cached || now() - cached.at >= ttlMs) cached = { at: now(), limit: read() };
    return cached.limit;
  };
}
