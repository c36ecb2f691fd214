import { HELPER_PROGRAM, type SpawnHelper } from './wasm-kernels/gemm-helpers';

// How many threads tfjs's threaded wasm build gives XNNPACK in this context. tfjs takes half the logical
// cores (it assumes two hyper-threads a core), at most 8, when its module starts. Training is the one job
// that keeps every core busy for minutes, and a thread per core made its step 15 % faster on this
// project's 2-core machine; inference keeps tfjs's half, where the extra thread only lengthened the tail
// latency (docs/benchmarks.md, "SIMD and threads").

/** The global the bundled factory reads its core count from when set (scripts/vite/tfjs-wasm-threads.ts). */
export const LOGICAL_CORES_GLOBAL = 'loupeWasmLogicalCores';

/** Emscripten starts eight pthread workers up front; a larger pool would wait on one that never starts. */
export const MAX_WASM_POOL = 8;

/**
 * Gives XNNPACK a thread per logical core (at most eight) in this context. Call it before the wasm backend
 * first starts here: the pool is sized once, when tfjs's module starts.
 */
export function useEveryCoreForWasm(cores = globalThis.navigator?.hardwareConcurrency ?? 1): void {
  // tfjs halves what it reads: report twice the pool wanted.
  (globalThis as Record<string, unknown>)[LOGICAL_CORES_GLOBAL] = 2 * Math.min(MAX_WASM_POOL, Math.max(1, cores));
}

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
