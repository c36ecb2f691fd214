import Dexie from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { flushSync } from 'svelte';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { live } from '../../../src/lib/ui/live.svelte';
import { makeDb, makeRun } from '../factories';

// Live queries run only where Dexie found an IndexedDB when it loaded; Node has none of its own.
beforeAll(() => {
  Dexie.dependencies.indexedDB ??= new IDBFactory();
  Dexie.dependencies.IDBKeyRange ??= IDBKeyRange;
});

/** What a view shows of a live query. */
const shown = <T>(state: { value: T; loading: boolean; error?: string }) => ({ value: state.value, loading: state.loading, error: state.error });

describe('live', () => {
  it('shows the initial value while loading, then the rows, and follows writes until its component goes', async () => {
    const db = makeDb();
    await db.runs.add(makeRun({ id: 'a', name: 'first' }));
    let runs!: ReturnType<typeof live<string[]>>;
    const destroy = $effect.root(() => {
      runs = live(async () => (await db.runs.orderBy('createdAt').toArray()).map((r) => r.name), []);
    });
    flushSync();
    expect(shown(runs)).toEqual({ value: [], loading: true, error: undefined });
    await vi.waitFor(() => expect(shown(runs)).toEqual({ value: ['first'], loading: false, error: undefined }));

    await db.runs.add(makeRun({ id: 'b', name: 'second', createdAt: 1_800_000_000_000 }));
    await vi.waitFor(() => expect(runs.value).toEqual(['first', 'second']));

    destroy();
    await db.runs.add(makeRun({ id: 'c', name: 'third', createdAt: 1_900_000_000_000 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs.value).toEqual(['first', 'second']);
    db.close();
  });

  it('shows why a query failed', async () => {
    let state!: ReturnType<typeof live<number>>;
    const destroy = $effect.root(() => {
      state = live(() => Promise.reject(new Error('the database is closed')), 0);
    });
    flushSync();
    await vi.waitFor(() => expect(shown(state)).toEqual({ value: 0, loading: false, error: 'the database is closed' }));
    destroy();
  });
});
