/** How much the origin stores and may store, and whether the browser promised not to evict it. */
export interface StorageStatus {
  usage: number;
  quota: number;
  persisted: boolean;
}

export async function storageStatus(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<StorageStatus | undefined> {
  if (!storage?.estimate) return undefined;
  const [{ usage = 0, quota = 0 }, persisted] = await Promise.all([
    storage.estimate(),
    storage.persisted?.() ?? Promise.resolve(false),
  ]);
  return { usage, quota, persisted };
}

/** Asks the browser not to evict Loupe's data under storage pressure; resolves to whether it agreed. */
export async function requestPersistence(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<boolean> {
  return (await storage?.persist?.()) ?? false;
}
