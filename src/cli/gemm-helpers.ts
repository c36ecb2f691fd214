import { Worker } from 'node:worker_threads';
import { HELPER_PROGRAM, type SpawnHelper } from '$lib/backends/wasm-kernels/index';

/**
 * Starts a GEMM helper (src/lib/backends/wasm-kernels/gemm-helpers.ts) as a `worker_threads` worker. It
 * does not keep the process alive: a command exits when its work is done.
 */
export const spawnGemmHelperInNode: SpawnHelper = (start) => {
  const worker = new Worker(`${HELPER_PROGRAM}\nserve(require('node:worker_threads').workerData);`, { eval: true, workerData: start });
  worker.unref();
  return { terminate: () => void worker.terminate() };
};
