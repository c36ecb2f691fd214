/**
 * IndexedDB can exist yet refuse to open (private windows in some browsers, storage blocked by policy),
 * so this opens a throwaway database for real. It sits with the database, which falls back to an in-memory
 * IndexedDB when this fails; `$lib/capabilities` re-exports it for the shell's banners.
 * @example if (!(await probeIndexedDb()).ok) console.warn('nothing will be kept');
 */
export async function probeIndexedDb(factory: IDBFactory | undefined = globalThis.indexedDB): Promise<{ ok: boolean; note: string }> {
  const missing = {
    ok: false,
    note: 'This browser refuses to store data here (private window or blocked site data). Loupe keeps your work in memory instead: export it before you close this tab.',
  };
  if (!factory) return missing;
  return new Promise((resolve) => {
    let request: IDBOpenDBRequest;
    try {
      request = factory.open('loupe-probe');
    } catch {
      resolve(missing);
      return;
    }
    request.onsuccess = () => {
      request.result.close();
      factory.deleteDatabase('loupe-probe');
      resolve({ ok: true, note: '' });
    };
    request.onerror = () => resolve(missing);
    request.onblocked = () => resolve({ ok: true, note: '' });
  });
}
