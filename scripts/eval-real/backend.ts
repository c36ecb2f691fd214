import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastCpuKernels } from '../../src/lib/backends/kernels/register';
import { registerWasmTrainingKernels } from '../../src/lib/backends/wasm-kernels/index';

/**
 * Starts the backend Loupe trains on in a browser without a GPU, in Node: wasm with Loupe's training
 * kernels (docs/benchmarks.md), binaries read from node_modules; or the cpu backend with its fast kernels.
 */
export async function startBackend(backend: 'wasm' | 'cpu'): Promise<string> {
  if (backend === 'wasm') {
    const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    setWasmPaths(`${dirname(wasmFile)}/`);
    registerWasmTrainingKernels();
  }
  if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend did not start in Node`);
  await tf.ready();
  if (backend === 'cpu') registerFastCpuKernels();
  const simd = backend === 'wasm' ? `, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, single thread` : '';
  return `tfjs ${tf.version.tfjs} ${backend}${simd}`;
}

/** The machine in one line, with the load average at the time (the cores are shared). */
export function describeMachine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} × ${cpus.length}, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(2)}`;
}
