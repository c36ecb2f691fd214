import { liveQuery } from 'dexie';

/**
 * A Dexie query as reactive state: re-runs whenever the tables it read change, in this tab or another.
 * Call it during component initialisation (it sets up an effect).
 * @example const runs = live(() => getDb().runs.orderBy('createdAt').reverse().toArray(), []);
 */
export function live<T>(query: () => T | Promise<T>, initial: T) {
  const state = new LiveState(initial);
  $effect(() => {
    const subscription = liveQuery(query).subscribe({
      next: (value) => {
        state.value = value;
        state.loading = false;
        state.error = undefined;
      },
      error: (error: unknown) => {
        state.error = error instanceof Error ? error.message : String(error);
        state.loading = false;
      },
    });
    return () => subscription.unsubscribe();
  });
  return state;
}

class LiveState<T> {
  value = $state.raw<T>() as T;
  loading = $state(true);
  error = $state<string>();

  constructor(initial: T) {
    this.value = initial;
  }
}
