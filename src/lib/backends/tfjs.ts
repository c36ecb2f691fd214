import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '$lib/db/types';
import { registerFastCpuKernels } from './kernels/register';
import { BACKEND_ORDER, isSoftwareRenderer, resolveBackend, type ResolvedBackend } from './resolve';
import { gemmHelperCount, registerWasmTrainingKernels, startGemmHelpers } from './wasm-kernels/index';
import { gemmHelpersWanted } from './gemm-threads';
import { registerWebGpuTrainingKernels } from './webgpu-kernels/index';
import { simdKernels } from './wasm-kernels/simd/module';

// The wasm binaries are bundled assets of the app itself (no CDN), so they are precached for offline use.
// Under Node (unit tests) the same imports are paths from the project root: read them from disk.
const inNode = typeof process !== 'undefined' && Boolean(process.versions?.node) && typeof document === 'undefined';
const local = (url: string) => (inNode && url.startsWith('/') ? `${process.cwd()}${url}` : url);
setWasmPaths({
  'tfjs-backend-wasm.wasm': local(wasmPlain),
  'tfjs-backend-wasm-simd.wasm': local(wasmSimd),
  'tfjs-backend-wasm-threaded-simd.wasm': local(wasmThreadedSimd),
});

export interface BackendStatus {
  backend: BackendName;
  available: boolean;
  detail: string;
}

export interface BackendInfo extends ResolvedBackend {
  /** A human description of the device: the WebGPU adapter, the WebGL renderer, or the CPU path. */
  adapter: string;
}

/** Makes `backend` tfjs's active backend and proves it computes: false if it cannot start here. */
async function activate(backend: BackendName): Promise<boolean> {
  if (backend === 'wasm') registerWasmTrainingKernels(); // conv/depthwise gradients wasm lacks; docs/benchmarks.md
  if (backend === 'webgpu') registerWebGpuTrainingKernels(); // fused layers: fewer dispatches per step
  if (!(await tf.setBackend(backend))) return false;
  await tf.ready();
  if (backend === 'cpu') registerFastCpuKernels();
  if (backend === 'wasm') await startWantedGemmHelpers(tf.backend() as BackendWasm);
  // A backend can register yet fail on first use (e.g. a WebGPU adapter without the features tfjs needs).
  const probe = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
  const [value] = await probe.data();
  probe.dispose();
  return value === 3;
}

/** Starts the GEMM helper threads this context asked for (`useGemmHelpers`), once per wasm backend. */
async function startWantedGemmHelpers(wasm: BackendWasm): Promise<void> {
  const wanted = gemmHelpersWanted();
  if (wanted && gemmHelperCount(wasm) === 0) await startGemmHelpers(wasm, wanted.count, wanted.spawn);
}

/** `activate` for `auto`: a GPU backend on a software rasteriser counts as unavailable, with the reason. */
async function activateForAuto(backend: BackendName): Promise<boolean> {
  if (!(await activate(backend))) return false;
  if (backend !== 'webgpu' && backend !== 'webgl') return true;
  const device = await describeAdapter(backend);
  if (isSoftwareRenderer(device)) {
    throw new Error(`runs on a software renderer (${device}), slower than WebAssembly here; choose it in Settings to use it anyway`);
  }
  return true;
}

const resolving: Partial<Record<string, Promise<BackendInfo>>> = {};

/**
 * tfjs has one active backend per context, and `tf.setBackend` calls must not overlap: it takes the new name at
 * once but installs that backend's instance only when its start (asynchronous for WebGPU and WebAssembly) ends,
 * so a switch made meanwhile leaves tfjs with one backend's name and another's instance, and the next op runs
 * the named backend's kernel on the other instance ("Cannot read properties of undefined (reading 'get')").
 * Two probes did overlap when Settings opened twice before the first finished. Every switch here runs through
 * this queue, one at a time.
 */
let switching: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = switching.then(work, work);
  switching = run.catch(() => undefined);
  return run;
}

/**
 * Resolves a backend choice once per context (page or worker), caching the promise (a failed resolution
 * is forgotten so a retry can succeed), and makes the resolved backend the active one.
 * @example const { backend, adapter } = await useBackend('auto');
 */
export function useBackend(choice: string): Promise<BackendInfo> {
  return oneAtATime(() => switchTo(choice));
}

/** `useBackend` for code already in the queue. */
async function switchTo(choice: string): Promise<BackendInfo> {
  resolving[choice] ??= resolveBackend(choice, choice === 'auto' ? activateForAuto : activate)
    .then(async (resolved) => ({ ...resolved, adapter: await describeAdapter(resolved.backend) }))
    .catch((error: unknown) => {
      delete resolving[choice];
      throw error;
    });
  const info = await resolving[choice];
  // Another choice may have switched tfjs since this one resolved.
  if (tf.getBackend() !== info.backend) await tf.setBackend(info.backend);
  return info;
}

/**
 * Forgets a backend whose device was lost. tfjs keeps the broken instance registered, and `useBackend` its
 * memo, so a later job that chose it would fail on the dead device again; after this, the next use creates
 * the backend afresh, on a new device if the browser gives one.
 */
export function forgetBackend(name: string): Promise<void> {
  return oneAtATime(() => forget(name));
}

async function forget(name: string): Promise<void> {
  for (const [choice, pending] of Object.entries(resolving)) {
    const info = await pending?.catch(() => undefined);
    if (info?.backend === name) delete resolving[choice];
  }
  const factory = tf.findBackendFactory(name);
  if (!factory) return;
  // tfjs removes the factory with the instance: put it back, with its priority, for the next setBackend.
  const { priority } = (tf.engine() as unknown as { registryFactory: Record<string, { priority: number }> }).registryFactory[name]!;
  try {
    tf.removeBackend(name); // disposes the old instance, which may throw on a dead device
  } finally {
    tf.registerBackend(name, factory, priority);
  }
}

/** What the device behind a backend is, in words. */
export async function describeAdapter(backend: BackendName): Promise<string> {
  switch (backend) {
    case 'webgpu':
      return describeWebGpuAdapter();
    case 'webgl':
      return describeWebGlRenderer();
    case 'wasm': {
      // The threaded build needs cross-origin isolation (src/lib/cross-origin-isolation.ts); tfjs then
      // gives XNNPACK half the logical cores, the trainer one (wasm-pool.ts).
      const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? getThreadsCount() : undefined;
      const plural = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
      // Loupe's SIMD kernels (wasm-kernels/simd) bind to the backend's memory; say whether they could here.
      const wasm = tf.engine().findBackend('wasm') as BackendWasm | null;
      const loupeKernels = wasm && simdKernels(wasm) ? ', Loupe kernels' : '';
      // Helper threads that share Loupe's kernels, where this context started them (the trainer).
      const helpers = wasm ? gemmHelperCount(wasm) : 0;
      if (helpers && threads !== undefined) return `WebAssembly (${simd}${loupeKernels} on ${plural(helpers + 1)}, XNNPACK on ${plural(threads)})`;
      return `WebAssembly (${simd}${loupeKernels}, ${threads === undefined ? 'one thread, not cross-origin isolated' : plural(threads)})`;
    }
    case 'cpu':
      return 'JavaScript CPU kernels';
  }
}

async function describeWebGpuAdapter(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) return 'no WebGPU adapter';
  // `info` is newer than the @webgpu/types that tfjs pins.
  const info = (adapter as GPUAdapter & { info: { vendor: string; architecture: string; device: string; description: string } }).info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return `${parts.join(' · ') || 'unnamed adapter'}${fallback ? ' (software fallback)' : ''}`;
}

function describeWebGlRenderer(): string {
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext('webgl2');
  if (!gl) return 'no WebGL2 context';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

/** Availability of every backend, for Settings; leaves tfjs on `restore` afterwards. */
export function probeAllBackends(restore: string = 'auto'): Promise<BackendStatus[]> {
  return oneAtATime(() => probeAll(restore));
}

async function probeAll(restore: string): Promise<BackendStatus[]> {
  const statuses: BackendStatus[] = [];
  for (const backend of BACKEND_ORDER) {
    try {
      const ok = await activate(backend);
      statuses.push({ backend, available: ok, detail: ok ? await describeAdapter(backend) : 'not available' });
    } catch (error) {
      statuses.push({ backend, available: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  delete resolving[restore];
  await switchTo(restore);
  return statuses;
}
