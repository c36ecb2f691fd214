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
