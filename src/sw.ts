/// <reference lib="webworker" />
// The service worker: precaches the app (shell, workers, wasm runtimes) so Loupe works offline after
// one visit, and bridges the same-origin REST API to a studio tab. Later features add their routes here
// (model weight caching).
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { apiRouteFor, forwardToStudio } from './lib/serving/bridge';
import { withIsolationHeaders } from './lib/cross-origin-isolation';
import { PERIODIC_SYNC_TAG, WAKE_MESSAGE, type WakeMessage } from './lib/pipelines/wake';

declare const self: ServiceWorkerGlobalScope;

// Everything served from the precache is cross-origin isolated (src/lib/cross-origin-isolation.ts).
addPlugins([{ handlerWillRespond: async ({ response }) => withIsolationHeaders(response) }]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// The same-origin REST API (`<scope>api/*`): routing and bridging only; a studio tab answers
// (src/lib/serving/bridge.ts). Registered before the navigation route so that opening an API URL in
// the address bar shows its JSON rather than the app.
const apiRoute = (url: URL) => apiRouteFor(url.href, self.registration.scope);
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
for (const method of HTTP_METHODS) {
  registerRoute(
    ({ url }) => apiRoute(url) !== undefined,
    ({ request, url }) =>
      forwardToStudio(request, apiRoute(url) ?? '', { clients: () => self.clients.matchAll({ type: 'window', includeUncontrolled: true }) }),
    method,
  );
}

// Navigations inside the app's scope get the cached shell; routes live in the hash. The shell's asset
// URLs are relative, so it is served only at the scope itself: any other path (`/some/random/path`)
// is sent there, where its assets resolve. Paths that name a file (`THIRD-PARTY-NOTICES.txt`) are
// left to the precache and the network, so the file shows rather than the app.
const shell = createHandlerBoundToURL('index.html');
registerRoute(
  new NavigationRoute(
    (options) => {
      const scope = new URL(self.registration.scope);
      const atScope = options.url.pathname === scope.pathname || options.url.pathname === `${scope.pathname}index.html`;
      return atScope ? shell(options) : Promise.resolve(Response.redirect(scope.href, 302));
    },
    { denylist: [/\/[^/]+\.[a-z0-9]+$/i] },
  ),
);

// A new version takes over at once: the studio keeps no state in the service worker.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// Periodic Background Sync (installed app): wake the studio tabs so the elected one evaluates its
// pipeline schedules (src/lib/pipelines/background.ts). Training needs a tab; with none open the
// missed schedule runs once on the next open.
interface PeriodicSyncEvent extends ExtendableEvent {
  readonly tag: string;
}
self.addEventListener('periodicsync', ((event: PeriodicSyncEvent) => {
  if (event.tag !== PERIODIC_SYNC_TAG) return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      const message: WakeMessage = { type: WAKE_MESSAGE, at: Date.now() };
      for (const tab of tabs) tab.postMessage(message);
    }),
  );
}) as EventListener);
