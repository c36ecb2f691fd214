import type { Plugin } from 'vite';
import { LOGICAL_CORES_GLOBAL } from '../../src/lib/backends/wasm-pool.ts';

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
 * tfjs sizes XNNPACK's pool as half of the logical cores Emscripten reports (it assumes two hyper-threads
 * per core), capped at 8, when the module starts. The factory is made to report the global that
 * src/lib/backends/wasm-pool.ts sets instead, where a context sets it: the trainer does, to take a thread
 * per core.
 */

export function tfjsWasmThreadsPlugin(): Plugin {
  const file = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
  const factoryStart = 'function(WasmBackendModuleThreadedSimd) {';
  const coresRead = 'return navigator["hardwareConcurrency"]';
  const coresOverride = `return globalThis.${LOGICAL_CORES_GLOBAL}||navigator["hardwareConcurrency"]`;
  return {
    name: 'loupe:tfjs-wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      if (!file.test(id.split('?')[0]!)) return null;
      const at = code.indexOf(factoryStart);
      if (at < 0) this.error(`tfjs-backend-wasm changed: "${factoryStart}" not found in ${id}; the threaded wasm backend would break when bundled`);
      const local = "var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;";
      const end = at + factoryStart.length;
      if (!code.includes(coresRead)) this.error(`tfjs-backend-wasm changed: "${coresRead}" not found in ${id}; the trainer's XNNPACK pool could not be sized`);
      const patched = `${code.slice(0, end)}\n${local}${code.slice(end)}`.replace(coresRead, coresOverride);
      return { code: patched, map: null };
    },
  };
}
