import type { LoupeDb } from '$lib/db/db';
import { getSetting, setSetting } from '$lib/settings';
import { DEFAULT_LOG_RETENTION, DEFAULT_SERVING_SETTINGS, type LogRetention, type ServingSettings } from './types';

/** The `serving` setting, with defaults for fields an older version did not store. */
export async function readServingSettings(db: LoupeDb): Promise<ServingSettings> {
  return { ...DEFAULT_SERVING_SETTINGS, ...(await getSetting(db, 'serving')) };
}

export async function updateServingSettings(db: LoupeDb, changes: Partial<ServingSettings>): Promise<ServingSettings> {
  const next = { ...(await readServingSettings(db)), ...changes };
  await setSetting(db, 'serving', next);
  return next;
}

/** The `logRetention` setting, with defaults for fields an older version did not store. */
export async function readLogRetention(db: LoupeDb): Promise<LogRetention> {
  return { ...DEFAULT_LOG_RETENTION, ...(await getSetting(db, 'logRetention')) };
}

export async function updateLogRetention(db: LoupeDb, changes: Partial<LogRetention>): Promise<LogRetention> {
  const next = { ...(await readLogRetention(db)), ...changes };
  await setSetting(db, 'logRetention', next);
  return next;
}
