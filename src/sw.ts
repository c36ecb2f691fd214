/// <reference lib="webworker" />
// The service worker: precaches the app (shell, workers, wasm runtimes) so Loupe works offline after
// one visit. Later features add their routes here (the same-origin REST API, model weight caching).
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Any navigation inside the app's scope gets the cached shell; routes live in the hash.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

// A new version takes over at once: the studio keeps no state in the service worker.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
