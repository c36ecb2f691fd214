import { probeIndexedDb } from '$lib/db/probe';

/** What this browser offers Loupe; the shell shows a banner for each missing piece and its fallback. */
export interface Capabilities {
  indexedDb: Capability;
  webgpu: Capability;
  workers: Capability;
  serviceWorker: Capability;
}

export interface Capability {
  ok: boolean;
  /** Why not, and what Loupe does instead; empty when ok. */
  note: string;
}

const ok: Capability = { ok: true, note: '' };

export { probeIndexedDb };

export async function probeWebGpu(gpu: GPU | undefined = (globalThis.navigator as Navigator & { gpu?: GPU })?.gpu): Promise<Capability> {
  const fallback = 'Training and inference run on WebGL, WebAssembly or the CPU instead, more slowly.';
  if (!gpu) return { ok: false, note: `This browser has no WebGPU. ${fallback}` };
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? ok : { ok: false, note: `WebGPU found no usable GPU adapter. ${fallback}` };
  } catch (error) {
    return { ok: false, note: `WebGPU failed to start (${String(error)}). ${fallback}` };
  }
}

export async function probeCapabilities(): Promise<Capabilities> {
  const [indexedDb, webgpu] = await Promise.all([probeIndexedDb(), probeWebGpu()]);
  return {
    indexedDb,
    webgpu,
    workers: typeof Worker === 'function' ? ok : { ok: false, note: 'Web Workers are unavailable: training cannot run.' },
    serviceWorker:
      'serviceWorker' in navigator
        ? ok
        : { ok: false, note: 'No service worker: Loupe will not work offline and the REST API is unavailable.' },
  };
}
