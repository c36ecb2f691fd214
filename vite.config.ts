import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import pkg from './package.json' with { type: 'json' };
import { connectSrcFromEnv, cspPlugin, noEvalProbePlugin } from './scripts/vite/csp.ts';
import { tfjsWasmThreadsPlugin } from './scripts/vite/tfjs-wasm-threads.ts';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from './src/lib/cross-origin-isolation.ts';

const alias = {
  $lib: fileURLToPath(new URL('./src/lib', import.meta.url)),
  $models: fileURLToPath(new URL('./models', import.meta.url)),
  $workers: fileURLToPath(new URL('./workers', import.meta.url)),
  $studio: fileURLToPath(new URL('./src/studio', import.meta.url)),
};

/** Svelte's client runtime (Node resolves `svelte` to the server one, where effects never run). */
const svelteClient = fileURLToPath(new URL('./node_modules/svelte/src/index-client.js', import.meta.url));

/** The commit the build came from, recorded with every run; absent outside a git checkout. */
function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return '';
  }
}

/** The REST API reference (docs/api.md) ships with the app as `api.md`, linked from Predict → REST API. */
function apiReferencePlugin(): Plugin {
  return {
    name: 'loupe-api-reference',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'api.md', source: readFileSync(new URL('./docs/api.md', import.meta.url), 'utf8') });
    },
  };
}

// Relative base: the build works from any static host path (a sub-folder, a file share).
export default defineConfig({
  base: './',
  resolve: { alias },
  define: {
    __APP_VERSION__: JSON.stringify(pkg.version),
    __GIT_COMMIT__: JSON.stringify(gitCommit()),
  },
  // Cross-origin isolation lets tfjs's wasm backend use threads (src/lib/cross-origin-isolation.ts).
  server: { headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS } },
  preview: { headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS } },
  plugins: [
    svelte(),
    apiReferencePlugin(),
    tfjsWasmThreadsPlugin(),
    // Content-Security-Policy as a <meta> in production builds (scripts/vite/csp.ts, docs/security.md).
    cspPlugin({ connectSrc: connectSrcFromEnv() }),
    noEvalProbePlugin(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        id: './',
        name: 'Loupe — ML studio in your browser',
        short_name: 'Loupe',
        description: 'Train, track, register, serve and monitor models entirely in the browser.',
        start_url: './',
        scope: './',
        display: 'standalone',
        background_color: '#0f1115',
        theme_color: '#3b6cf6',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        rollupFormat: 'iife',
        // txt, md: the third-party notices and the API reference open offline too.
        globPatterns: ['**/*.{js,css,html,svg,png,wasm,json,webmanifest,txt,md}'],
        // The wasm runtimes are several MiB each; Workbox's 2 MiB default would silently skip them.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
  // Worker bundles get their own plugin list: tfjs runs in the trainer and inference workers.
  worker: { format: 'es', plugins: () => [tfjsWasmThreadsPlugin(), noEvalProbePlugin()] },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
    // The plugin-timing report fires whenever the machine is busy (CI shares its cores); it measures the host's
    // load, not the build, so `npm run bench` rather than every build is where speed is reported.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  test: {
    projects: [
      {
        // Runes in `*.svelte.ts` (the state classes and their `*.svelte.test.ts` specs) compile for the
        // client and run on svelte's client runtime, so `$derived` and `$effect` react in Node as in a page.
        resolve: { alias: [...Object.entries(alias).map(([find, replacement]) => ({ find, replacement })), { find: /^svelte$/, replacement: svelteClient }] },
        plugins: [svelte({ dynamicCompileOptions: () => ({ generate: 'client' }) })],
        test: {
          name: 'unit',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts'],
          // One worker per core: vitest's default leaves one core idle, and on a 2-core CI machine that
          // is half of it. The suite's own waits are on results, not on time, so it holds up under load.
          maxWorkers: availableParallelism(),
          testTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.e2e.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          // Two files at a time, each with its own Chromium profile and preview server on a free port:
          // the whole suite passed so under a load average of 17 (22 min, where one at a time took
          // 15 in the last CI run), since every wait is on what the page shows, not on time.
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
