// Helper threads for Loupe's wasm kernels (wasm-kernels/gemm-helpers.ts): which contexts want them,
// and how a browser worker starts one. Apart from wasm-pool.ts, which the Vite config reads.
import { HELPER_PROGRAM, type SpawnHelper } from './wasm-kernels/gemm-helpers';
import { MAX_WASM_POOL, useWasmPool } from './wasm-pool';

/** GEMM helper threads this context asked for (useGemmHelpers), started with its wasm backend. */
let helpersWanted: { count: number; spawn: SpawnHelper } | undefined;

/**
 * Asks for `count` helper threads to share Loupe's convolution GEMMs (wasm-kernels/gemm-helpers.ts) once the
 * wasm backend starts in this context (`useBackend`). Only for a context that may block on Atomics (a
 * worker, or Node) and does long compute-bound work: the trainer, and the `loupe` command.
 */
export function useGemmHelpers(count: number, spawn: SpawnHelper): void {
  helpersWanted = count > 0 ? { count, spawn } : undefined;
}

/**
 * The trainer's threads: Loupe's kernels on every core (a helper thread per further core, at most eight
 * threads) and XNNPACK on this thread alone (wasm-pool.ts says why). Call it before any backend starts here.
 */
export function useEveryCoreForTraining(spawn: SpawnHelper, cores = globalThis.navigator?.hardwareConcurrency || 1): void {
  useWasmPool(1);
  useGemmHelpers(Math.min(MAX_WASM_POOL, cores) - 1, spawn);
}

/** The helper threads asked for in this context, if any. */
export function gemmHelpersWanted(): { count: number; spawn: SpawnHelper } | undefined {
  return helpersWanted;
}

/**
 * Starts a GEMM helper as a dedicated worker from a Blob of its program (the CSP allows blob: workers, as
 * tfjs's own pthreads need). A cross-origin isolated context can post it the shared memory.
 */
export const spawnGemmHelperInWorker: SpawnHelper = (start) => {
  const url = URL.createObjectURL(new Blob([`${HELPER_PROGRAM}\nonmessage = (event) => serve(event.data);`], { type: 'text/javascript' }));
  const worker = new Worker(url, { name: `loupe-gemm-helper-${start.index + 1}` });
  worker.postMessage(start);
  return {
    terminate: () => {
      worker.terminate();
      URL.revokeObjectURL(url);
    },
  };
};
