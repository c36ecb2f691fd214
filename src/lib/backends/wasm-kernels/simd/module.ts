import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { PLAIN_MEMORY_WASM, SHARED_MEMORY_WASM } from './kernels.generated';

/** The exports of kernels.wat: every pointer is a byte offset into the wasm backend's heap. */
export interface SimdKernels {
  depthwise_filter_grad(
    x: number, dy: number, acc: number,
    batch: number, inH: number, inW: number, C: number, outH: number, outW: number,
    fH: number, fW: number, sH: number, sW: number, dH: number, dW: number, padTop: number, padLeft: number,
  ): void;
}

/** The Emscripten module inside tfjs-backend-wasm: its memory is `asm.memory`, or `wasmMemory` (threaded build). */
interface EmscriptenModule {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const instances = new WeakMap<BackendWasm, SimdKernels | null>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * Loupe's SIMD kernels bound to this backend's memory, instantiated on first use; null where they cannot
 * run (no wasm SIMD, a backend build whose memory is not reachable): the TypeScript kernels serve then.
 * Synchronous compilation is fine for a module this small (a few KiB), also on a page's main thread.
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  if (instances.has(backend)) return instances.get(backend)!;
  let kernels: SimdKernels | null = null;
  try {
    const emscripten = backend.wasm as unknown as EmscriptenModule;
    const memory = emscripten.wasmMemory ?? emscripten.asm?.memory;
    if (memory instanceof WebAssembly.Memory) {
      const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
      const module = new WebAssembly.Module(decode(shared ? SHARED_MEMORY_WASM : PLAIN_MEMORY_WASM));
      kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
    }
  } catch {
    kernels = null; // No wasm SIMD here (or a memory it cannot import): the TypeScript kernels serve.
  }
  instances.set(backend, kernels);
  return kernels;
}
