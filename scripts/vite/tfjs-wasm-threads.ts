import type { Plugin } from 'vite';

/**
 * Makes tfjs-backend-wasm's threaded-SIMD factory survive bundling.
 *
 * When the page is cross-origin isolated, tfjs starts its pthread workers from a Blob holding
 * `wasmFactoryThreadedSimd.toString()`. Emscripten wrote that factory to read one variable of its
 * enclosing closure, `_scriptDir`, behind a `typeof` guard; a minifier renames the variable and, knowing
 * it is declared, drops the guard, so the Blob's copy throws `ReferenceError: e is not defined` in every
 * pthread and the backend never starts. Declaring `_scriptDir` inside the factory makes it self-contained
 * (in a worker there is no `document.currentScript`, so the value is the same: undefined).
 *
 * It also gives XNNPACK one thread per logical core. tfjs sizes its pool as half of
 * `navigator.hardwareConcurrency`, assuming two hyper-threads per core, which leaves a 2-core machine
 * with one thread: isolation would buy nothing there. The factory's view of the core count is doubled, so
 * tfjs's halving yields every logical core (tfjs still caps the pool at 8).
 */
export function tfjsWasmThreadsPlugin(): Plugin {
  const file = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
  const factoryStart = 'function(WasmBackendModuleThreadedSimd) {';
  const coreCount = 'return navigator["hardwareConcurrency"]}';
  return {
    name: 'loupe:tfjs-wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      if (!file.test(id.split('?')[0]!)) return null;
      const at = code.indexOf(factoryStart);
      if (at < 0) this.error(`tfjs-backend-wasm changed: "${factoryStart}" not found in ${id}; the threaded wasm backend would break when bundled`);
      const local = "var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;";
      if (!code.includes(coreCount)) this.error(`tfjs-backend-wasm changed: "${coreCount}" not found in ${id}`);
      const end = at + factoryStart.length;
      const patched = `${code.slice(0, end)}\n${local}${code.slice(end)}`.replace(coreCount, 'return 2 * navigator["hardwareConcurrency"]}');
      return { code: patched, map: null };
    },
  };
}
