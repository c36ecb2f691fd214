/**
 * What the service worker and the studio tabs say to each other about pipelines. No imports: the
 * service worker bundles this file.
 */

/** Periodic Background Sync tag under which the installed app asks to be woken for its schedules. */
export const PERIODIC_SYNC_TAG = 'loupe-pipelines';

/** Message the service worker posts to every studio tab on a periodic sync: "evaluate your triggers now". */
export const WAKE_MESSAGE = 'loupe:pipelines-wake';

export interface WakeMessage {
  type: typeof WAKE_MESSAGE;
  at: number;
}

export function isWakeMessage(data: unknown): data is WakeMessage {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === WAKE_MESSAGE;
}
