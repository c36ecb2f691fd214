import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import os from 'node:os';
import { useBackend, type BackendInfo } from '$lib/backends/tfjs';
import { useEveryCoreForTraining } from '$lib/backends/gemm-threads';
import { LoupeDb } from '$lib/db/db';
import { UsageError } from './errors';
import { enableRelaxedSimdInNode } from './relaxed-simd';
import { spawnGemmHelperInNode } from './gemm-helpers';
import { useThreadedWasmInNode } from './wasm-threads';

/** Backends tfjs has in Node without native add-ons; `auto` tries them in this order. */
export const NODE_BACKENDS = ['wasm', 'cpu'] as const;

/**
 * Starts a backend for a `--backend` choice — `wasm`, `cpu`, or `auto` (wasm, else cpu) — through the
 * studio's own `useBackend`, so the same training kernels are registered as in the browser, on tfjs's
 * threaded wasm build (`useThreadedWasmInNode`) with the studio trainer's threads: a helper thread per
 * further core for Loupe's kernels, XNNPACK on the calling thread alone. (The bin's
 * module hook gives its Vite `?url` imports of the .wasm binaries their file URLs.)
 * @example const { backend, adapter } = await startBackend('wasm');
 */
export async function startBackend(choice: string): Promise<BackendInfo> {
  enableRelaxedSimdInNode();
  useThreadedWasmInNode(1);
  useEveryCoreForTraining(spawnGemmHelperInNode, os.availableParallelism());
  if (choice === 'auto') return useBackend('wasm').catch(() => useBackend('cpu'));
  if (!(NODE_BACKENDS as readonly string[]).includes(choice)) {
    throw new UsageError(`--backend "${choice}" is not available in Node; choose auto, ${NODE_BACKENDS.join(' or ')} (webgpu and webgl run in the studio)`);
  }
  return useBackend(choice);
}

let dbCounter = 0;

/**
 * A fresh in-memory studio database (fake-indexeddb, as the unit tests use): the CLI runs the studio's
 * own import, training and registry code on it and writes what it produced to files.
 */
export function memoryDb(): LoupeDb {
  return new LoupeDb(`loupe-cli-${process.pid}-${++dbCounter}`, { indexedDB: new IDBFactory(), IDBKeyRange });
}
