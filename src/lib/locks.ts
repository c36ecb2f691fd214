/**
 * Web Locks, shared by every tab and worker of the origin, with an in-process stand-in where the API
 * is missing (Node tests, old browsers) so callers need no branches.
 */
const localHeld = new Map<string, Promise<unknown>>();

function locks(): LockManager | undefined {
  return (globalThis.navigator as Navigator | undefined)?.locks;
}

/** Runs `body` while holding the exclusive lock `name`, waiting for it if another holder has it. */
export async function withLock<T>(name: string, body: () => Promise<T>): Promise<T> {
  const manager = locks();
  if (manager) return manager.request(name, body) as Promise<T>;
  while (localHeld.has(name)) await localHeld.get(name)!.catch(() => {});
  const running = body();
  localHeld.set(name, running);
  try {
    return await running;
  } finally {
    localHeld.delete(name);
  }
}

/** Whether some tab or worker holds the lock `name` right now. */
export async function isLockHeld(name: string): Promise<boolean> {
  const manager = locks();
  if (!manager) return localHeld.has(name);
  const { held = [] } = await manager.query();
  return held.some((lock) => lock.name === name);
}

/**
 * Runs `body` holding the exclusive lock `name` only if nobody holds it now (Web Locks `ifAvailable`);
 * otherwise returns `{ acquired: false }` at once without running it.
 */
export async function tryWithLock<T>(name: string, body: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
  const manager = locks();
  if (manager) {
    return manager.request(name, { ifAvailable: true }, async (lock) => (lock ? { acquired: true as const, value: await body() } : { acquired: false as const }));
  }
  if (localHeld.has(name)) return { acquired: false };
  return { acquired: true, value: await withLock(name, body) };
}
