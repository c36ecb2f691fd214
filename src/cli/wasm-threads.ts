import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { MAX_WASM_POOL } from '$lib/backends/wasm-pool';

interface ThreadedModule {
  PThread: Record<'runningWorkers' | 'unusedWorkers', { ref(): void; unref(): void }[]>;
  cwrap: (name: string, returns: string | null, args: string[]) => (...args: number[]) => number;
}

type Factory = (config: { locateFile: (file: string) => string; mainScriptUrlOrBlob: string }) => Promise<ThreadedModule>;

let installed = false;

/**
 * Makes tfjs's `wasm` backend in Node its threaded-SIMD build, with an XNNPACK pool of one thread per
 * logical core (capped at eight), as PyTorch takes all cores by default.
 *
 * tfjs starts only the single-threaded build under Node (its `WASM_HAS_MULTITHREAD_SUPPORT` flag is false
 * there, tensorflow/tfjs#3830) because its loader hands Emscripten's pthreads a Blob URL, which
 * `worker_threads` cannot start. The Emscripten build itself runs on `worker_threads`: this writes its
 * pthread script to a file, starts the module, and gives tfjs a `BackendWasm` over it, the same object
 * tfjs's own loader makes. Call it before the backend is first used; kernels registered for `wasm`
 * (Loupe's training kernels) apply unchanged, and bind to the shared memory.
 * @example useThreadedWasmInNode(); await useBackend('wasm');
 */
export function useThreadedWasmInNode(poolSize = Math.min(MAX_WASM_POOL, os.availableParallelism())): void {
  if (installed) return;
  installed = true;
  const singleThreaded = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    let module: ConstructorParameters<typeof BackendWasm>[0];
    try {
      module = await startThreadedModule(poolSize);
    } catch (error) {
      // A Node without wasm threads (or a changed tfjs): tfjs's own single-threaded build still trains.
      console.warn(`loupe: tfjs's threaded wasm build did not start (${error instanceof Error ? error.message : String(error)}); using one thread`);
      return singleThreaded!();
    }
    const backend = new BackendWasm(module);
    // The binary compiled, so both hold; tfjs's own loader would have evaluated them on the way.
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    return backend;
  }, 2);
}

async function startThreadedModule(poolSize: number): Promise<ConstructorParameters<typeof BackendWasm>[0]> {
  const require = createRequire(import.meta.url);
  const factoryFile = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const directory = factoryFile.slice(0, factoryFile.lastIndexOf('/') + 1);
  // The package ships the pthread script as a string (for a Blob); tfjs escapes its newlines the same way.
  const { wasmWorkerContents } = require(`${directory}tfjs-backend-wasm-threaded-simd.worker.js`) as { wasmWorkerContents: string };
  // One file per tfjs version, shared by every command: written beside and renamed, so no command reads it half-written.
  const workerFile = join(os.tmpdir(), `loupe-tfjs-${version_wasm}-pthread.cjs`);
  if (!existsSync(workerFile)) {
    const partial = `${workerFile}.${process.pid}`;
    writeFileSync(partial, wasmWorkerContents.replace(/\n/g, '\\n'));
    renameSync(partial, workerFile);
  }
  const factory = require(factoryFile) as Factory;
  // tfjs's C++ creates XNNPACK's pool while the module starts, sized as half the logical cores Emscripten
  // reports (it assumes two hyper-threads a core), which in Node is `os.cpus().length`: report twice the pool.
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * poolSize }, (_, i) => cpus()[i % cpus().length]!);
  let module: ThreadedModule;
  try {
    module = await factory({
      locateFile: (file) => (file.endsWith('.worker.js') ? workerFile : `${directory}${file}`),
      mainScriptUrlOrBlob: factoryFile,
    });
  } finally {
    os.cpus = cpus;
  }
  // XNNPACK's threads run for the module's life, and Emscripten marks a worker as keeping Node alive when it
  // starts one (maybe after this point, once the worker has loaded): a command would never exit on its own.
  for (const worker of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) {
    worker.ref = () => {};
    worker.unref();
  }
  // What tfjs's own loader attaches (backend_wasm.js `init`); BackendWasm calls these.
  const tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  // The rest of the module is tfjs's own threaded build, which tfjs types in full.
  return Object.assign(module, { tfjs }) as unknown as ConstructorParameters<typeof BackendWasm>[0];
}
