import type { Plugin } from 'vite';

/**
 * Loupe's Content-Security-Policy. Static hosts cannot be relied on to send headers, so the production
 * build carries the policy in a `<meta http-equiv>` (the `cspPlugin` below); `cspHeader` is the same
 * policy for hosts that can send headers (docs/security.md). Vite's dev server needs inline scripts for
 * hot reload, so the meta is added to builds only.
 *
 * Why each source is there:
 * - `'wasm-unsafe-eval'`: compiling WebAssembly (tfjs's wasm backend, ONNX Runtime Web). It allows
 *   `WebAssembly.compile*` only, not `eval` or `new Function`.
 * - `blob:` in `worker-src` and `script-src`: the trainer, inference and ingest workers and the service
 *   worker are files of the build, but tfjs's threaded wasm backend (used when the page is cross-origin
 *   isolated) starts its pthread workers from a Blob of Emscripten's factory, and each pthread
 *   `importScripts` that Blob. A blob: URL only exists when the app's own script made it, and Chromium
 *   refuses to run a Blob whose type is an image as a script, so markup injection gains nothing from it.
 * - `img-src blob: data:`: dataset thumbnails and predictions show images through object URLs.
 * - `connect-src`: the Hugging Face hub (and the CDN hosts it redirects downloads to) for the
 *   transformers.js models that Settings → Text models points at by default. A custom model host must be
 *   added at build time: `LOUPE_CSP_CONNECT_SRC="https://models.example.org" npm run build`.
 * - no `'unsafe-inline'` anywhere: Svelte sets dynamic styles through the CSSOM (`style.cssText`,
 *   `setProperty`), which `style-src` does not govern, and component styles are built into CSS files.
 */

/** The hosts transformers.js downloads hub models from (`huggingface.co` redirects files to its CDNs). */
export const HUB_CONNECT_SRC = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];

export interface CspOptions {
  /** Extra origins the app may fetch from (a custom model host), e.g. `https://models.example.org`. */
  connectSrc?: readonly string[];
}

/** Directives a `<meta>` policy ignores (browsers warn about them): they only work as a header. */
const HEADER_ONLY = new Set(['frame-ancestors', 'report-uri', 'report-to', 'sandbox']);

const SOURCE = /^(https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?|'self'|'none')$/i;

/** The policy as directive → sources, in a stable order. */
export function cspDirectives(options: CspOptions = {}): [string, string[]][] {
  const extra = [...(options.connectSrc ?? [])];
  for (const source of extra) {
    if (!SOURCE.test(source)) throw new Error(`LOUPE_CSP_CONNECT_SRC: "${source}" is not an origin like https://models.example.org`);
  }
  return [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", "'wasm-unsafe-eval'", 'blob:']],
    ['worker-src', ["'self'", 'blob:']],
    ['style-src', ["'self'"]],
    ['img-src', ["'self'", 'blob:', 'data:']],
    ['font-src', ["'self'"]],
    ['connect-src', ["'self'", ...HUB_CONNECT_SRC, ...extra]],
    ['manifest-src', ["'self'"]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'self'"]],
    ['form-action', ["'self'"]],
    ['frame-ancestors', ["'none'"]],
  ];
}

function serialize(directives: [string, string[]][]): string {
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}

/** The policy as a `Content-Security-Policy` header value (for hosts that send headers). */
export function cspHeader(options: CspOptions = {}): string {
  return serialize(cspDirectives(options));
}

/** The policy for the `<meta http-equiv>` tag: the header less what a meta cannot carry. */
export function cspMeta(options: CspOptions = {}): string {
  return serialize(cspDirectives(options).filter(([name]) => !HEADER_ONLY.has(name)));
}

/** Extra connect-src origins from `LOUPE_CSP_CONNECT_SRC` (space- or comma-separated). */
export function connectSrcFromEnv(value = process.env.LOUPE_CSP_CONNECT_SRC): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/**
 * Adds the policy as the first element of `<head>` in production builds, before any script or style
 * is requested.
 * @example plugins: [cspPlugin({ connectSrc: connectSrcFromEnv() })]
 */
export function cspPlugin(options: CspOptions = {}): Plugin {
  const content = cspMeta(options);
  return {
    name: 'loupe-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content }, injectTo: 'head-prepend' }],
  };
}

/**
 * protobufjs (bundled inside onnxruntime-web, which transformers.js loads in the workers) probes for
 * Node's `require` with `eval("quire".replace(/^/,"re"))` inside a try/catch. In a browser the probe
 * fails either way; under this policy it also raises a violation. Replacing the probe with `undefined`
 * keeps the outcome (the call throws, the catch returns null) without any eval. Add it to the main
 * and the worker plugins: Vite builds workers with their own list.
 */
export function noEvalProbePlugin(): Plugin {
  const probe = 'eval("quire".replace(/^/,"re"))';
  const file = /(onnxruntime-web[\\/]dist|@protobufjs[\\/]inquire)[\\/][^\\/]+\.js$/;
  return {
    name: 'loupe:no-eval-probe',
    apply: 'build',
    transform(code, id) {
      if (!file.test(id.split('?')[0]!) || !code.includes(probe)) return null;
      return { code: code.replaceAll(probe, 'undefined'), map: null };
    },
  };
}

