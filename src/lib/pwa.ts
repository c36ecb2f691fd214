/**
 * Registers the service worker that precaches the app (offline PWA) and answers the same-origin API.
 * Skipped in dev, where Vite serves modules unbundled. `onUnavailable` hears why it did not install
 * (the shell shows it as a warning).
 * @example registerServiceWorker((message) => notify('warn', message));
 */
export function registerServiceWorker(onUnavailable: (message: string) => void): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((error: unknown) => {
    onUnavailable(`Offline mode is unavailable: the service worker did not install (${String(error)}).`);
  });
}
