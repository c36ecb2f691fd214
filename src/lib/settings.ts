import type { LoupeDb } from '$lib/db/db';
import type { BackendChoice } from '$lib/backends/resolve';

/** Every setting Loupe stores, with its type and default. */
export interface SettingValues {
  backend: BackendChoice;
}

export const SETTING_DEFAULTS: SettingValues = {
  backend: 'auto',
};

export async function getSetting<K extends keyof SettingValues>(db: LoupeDb, key: K): Promise<SettingValues[K]> {
  const row = await db.settings.get(key);
  return row === undefined ? SETTING_DEFAULTS[key] : (row.value as SettingValues[K]);
}

export async function setSetting<K extends keyof SettingValues>(db: LoupeDb, key: K, value: SettingValues[K]): Promise<void> {
  await db.settings.put({ key, value });
}
