import type { LoupeDb } from '$lib/db/db';
import { MIN_INTERVAL_MS, nextFireAfter } from './schedule';
import { isWakeMessage, PERIODIC_SYNC_TAG } from './wake';

/**
 * Periodic Background Sync (Chromium, installed PWAs only): the browser wakes the service worker now
 * and then, which wakes the studio tabs so the elected one evaluates its schedules even while it sits
 * in the background with throttled timers. Training needs a page (workers, the GPU), so with no tab
 * open nothing runs; the missed schedule then runs once on the next open.
 */

interface PeriodicSyncManager {
  register(tag: string, options?: { minInterval?: number }): Promise<void>;
  unregister(tag: string): Promise<void>;
}

/** The shortest gap between two scheduled runs of any active pipeline, or undefined when none is scheduled. */
export async function shortestScheduleGap(db: LoupeDb, now = Date.now()): Promise<number | undefined> {
  let shortest: number | undefined;
  for (const pipeline of await db.pipelines.toArray()) {
    if (pipeline.paused) continue;
    const first = nextFireAfter(pipeline.config.triggers.schedule, now);
    const second = first === undefined ? undefined : nextFireAfter(pipeline.config.triggers.schedule, first);
    if (first === undefined || second === undefined) continue;
    const gap = Math.max(MIN_INTERVAL_MS, second - first);
    shortest = shortest === undefined ? gap : Math.min(shortest, gap);
  }
  return shortest;
}

/**
 * Registers (or drops) the periodic sync to match the schedules, where the browser offers it and the
 * permission is granted (it is, for installed apps the user engages with). Returns what it did.
 */
export async function registerPeriodicSync(db: LoupeDb): Promise<'registered' | 'unregistered' | 'unsupported' | 'denied'> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return 'unsupported';
  const registration = await navigator.serviceWorker.getRegistration();
  const periodicSync = (registration as (ServiceWorkerRegistration & { periodicSync?: PeriodicSyncManager }) | undefined)?.periodicSync;
  if (!periodicSync) return 'unsupported';
  const status = await navigator.permissions.query({ name: 'periodic-background-sync' as PermissionName }).catch(() => undefined);
  if (status?.state !== 'granted') return 'denied';
  const gap = await shortestScheduleGap(db);
  if (gap === undefined) {
    await periodicSync.unregister(PERIODIC_SYNC_TAG);
    return 'unregistered';
  }
  await periodicSync.register(PERIODIC_SYNC_TAG, { minInterval: gap });
  return 'registered';
}

/** Calls `onWake` whenever the service worker relays a periodic sync. Returns the unsubscribe function. */
export function listenForBackgroundWakeups(onWake: () => void): () => void {
  const container = typeof navigator === 'undefined' ? undefined : navigator.serviceWorker;
  if (!container) return () => {};
  const listener = (event: MessageEvent) => {
    if (isWakeMessage(event.data)) onWake();
  };
  container.addEventListener('message', listener);
  return () => container.removeEventListener('message', listener);
}
