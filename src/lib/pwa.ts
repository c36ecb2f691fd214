import { notify } from '$lib/ui/notifications.svelte';

/**
 * Registers the service worker that precaches the app (offline PWA) and answers the same-origin API.
 * Skipped in dev, where Vite serves modules unbundled.
 */
export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((error: unknown) => {
    notify('warn', `Offline mode is unavailable: the service worker did not install (${String(error)}).`);
  });
}
