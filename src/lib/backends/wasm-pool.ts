// How many threads tfjs's threaded wasm build gives XNNPACK in this context. tfjs takes half the logical
// cores (it assumes two hyper-threads a core), at most 8, when its module starts. Inference keeps tfjs's
// half, where a thread per core only lengthened the tail latency (docs/benchmarks.md, "SIMD and threads").
// Training takes every core, but no longer through XNNPACK: Loupe's kernels, on a helper thread per further
// core, now run the convolutions, depthwise layers and activations, and an XNNPACK pool on the same cores
// spun between its few remaining ops and slowed the helpers' parts, so the trainer gives XNNPACK its own
// thread alone (gemm-threads.ts, useEveryCoreForTraining; "Stop 29").

/** The global the bundled factory reads its core count from when set (scripts/vite/tfjs-wasm-threads.ts). */
export const LOGICAL_CORES_GLOBAL = 'loupeWasmLogicalCores';

/** Emscripten starts eight pthread workers up front; a larger pool would wait on one that never starts. */
export const MAX_WASM_POOL = 8;

/**
 * Gives XNNPACK `threads` threads (at most eight, the calling one included) in this context. Call it before
 * the wasm backend first starts here: the pool is sized once, when tfjs's module starts.
 */
export function useWasmPool(threads: number): void {
  // tfjs halves what it reads: report twice the pool wanted.
  (globalThis as Record<string, unknown>)[LOGICAL_CORES_GLOBAL] = 2 * Math.min(MAX_WASM_POOL, Math.max(1, threads));
}

/** Gives XNNPACK a thread per logical core (at most eight): for a context without Loupe's helper threads. */
export function useEveryCoreForWasm(cores = globalThis.navigator?.hardwareConcurrency ?? 1): void {
  useWasmPool(cores);
}
