// Cross-origin isolation gives the page SharedArrayBuffer, which tfjs's threaded-SIMD wasm build needs
// to run XNNPACK on several cores. The preview/dev servers send these headers; on static hosts that
// cannot, the service worker adds them to what it serves, so the app is isolated from its second load.
// Everything Loupe loads is same-origin or fetched with CORS (a configured model hub), which
// `require-corp` allows.
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** `response` with the isolation headers added; opaque and redirected responses cannot be rebuilt and pass through. */
export function withIsolationHeaders(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
