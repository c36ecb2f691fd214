import type { BackendName } from '$lib/db/types';

/** Backends in the order `auto` tries them: fastest first, always-available last. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export type BackendChoice = 'auto' | BackendName;

export class UnknownBackendError extends Error {
  override name = 'UnknownBackendError';
  constructor(choice: string) {
    super(`Unknown backend "${choice}". Valid choices: auto, ${BACKEND_ORDER.join(', ')}.`);
  }
}

export class NoBackendAvailableError extends Error {
  override name = 'NoBackendAvailableError';
  constructor(readonly attempts: BackendAttempt[]) {
    super(
      `No backend could start: ${attempts.map((a) => `${a.backend} (${a.error})`).join('; ')}. ` +
        'Try another browser, or enable WebGL/WebAssembly.',
    );
  }
}

export interface BackendAttempt {
  backend: BackendName;
  error: string;
}

export interface ResolvedBackend {
  backend: BackendName;
  /** Backends tried before it, with why each failed; shown in Settings and stored with runs. */
  skipped: BackendAttempt[];
}

/**
 * Whether a GPU backend's device (as `describeAdapter` words it) is a software rasteriser. On those a
 * training step is 15–30× slower than on WebAssembly (docs/benchmarks.md), so `auto` passes them over;
 * choosing the backend by name still uses it.
 */
export function isSoftwareRenderer(device: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software fallback|microsoft basic render/i.test(device);
}

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}

/**
 * The ordered list of backends a choice allows.
 * @example candidateBackends('auto') // ['webgpu', 'webgl', 'wasm', 'cpu']
 * @example candidateBackends('wasm') // ['wasm']
 */
export function candidateBackends(choice: string): BackendName[] {
  if (choice === 'auto') return [...BACKEND_ORDER];
  if (isBackendName(choice)) return [choice];
  throw new UnknownBackendError(choice);
}

/**
 * Tries each candidate in order with `activate` (which throws or returns false when a backend cannot
 * start) and returns the first that works.
 */
export async function resolveBackend(
  choice: string,
  activate: (backend: BackendName) => Promise<boolean>,
): Promise<ResolvedBackend> {
  const skipped: BackendAttempt[] = [];
  for (const backend of candidateBackends(choice)) {
    try {
      if (await activate(backend)) return { backend, skipped };
      skipped.push({ backend, error: 'not available in this browser' });
    } catch (error) {
      skipped.push({ backend, error: error instanceof Error ? error.message : String(error) });
    }
  }
  throw new NoBackendAvailableError(skipped);
}
