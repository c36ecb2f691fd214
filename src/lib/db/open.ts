import Dexie from 'dexie';
import { DB_NAME, LoupeDb, setDb } from './db';
import { probeIndexedDb } from './probe';

/**
 * Opens the studio's database. Where the browser refuses IndexedDB (some private windows), Loupe
 * still works on an in-memory IndexedDB, and says that nothing will be kept.
 * @returns whether data persists across visits
 */
export async function openStudioDb(): Promise<{ persistent: boolean }> {
  if ((await probeIndexedDb()).ok) {
    setDb(new LoupeDb());
    return { persistent: true };
  }
  const { indexedDB, IDBKeyRange } = await import('fake-indexeddb');
  // Dexie's own bookkeeping (database names, live queries) reads the global dependencies, not the options.
  Dexie.dependencies.indexedDB = indexedDB;
  Dexie.dependencies.IDBKeyRange = IDBKeyRange;
  setDb(new LoupeDb(DB_NAME, { indexedDB, IDBKeyRange }));
  return { persistent: false };
}
