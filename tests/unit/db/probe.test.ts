import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { probeIndexedDb } from '../../../src/lib/db/probe';

describe('probeIndexedDb', () => {
  it('sees a working IndexedDB', async () => {
    await expect(probeIndexedDb(new IDBFactory())).resolves.toEqual({ ok: true, note: '' });
  });
  it('reports a missing or refusing IndexedDB with what Loupe does instead', async () => {
    const refusing = { open: () => { throw new DOMException('denied', 'SecurityError'); } } as unknown as IDBFactory;
    for (const factory of [undefined, refusing]) {
      const result = await probeIndexedDb(factory);
      expect(result.ok).toBe(false);
      expect(result.note).toMatch(/in memory/);
    }
  });
});
