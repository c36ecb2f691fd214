import { describe, expect, it } from 'vitest';
import {
  isSoftwareRenderer,
  BACKEND_ORDER,
  NoBackendAvailableError,
  UnknownBackendError,
  candidateBackends,
  resolveBackend,
} from '../../../src/lib/backends/resolve';
import type { BackendName } from '../../../src/lib/db/types';

describe('candidateBackends', () => {
  it('resolves auto to webgpu, webgl, wasm, cpu in that order', () => {
    expect(candidateBackends('auto')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('keeps an explicit choice to itself', () => {
    for (const backend of BACKEND_ORDER) expect(candidateBackends(backend)).toEqual([backend]);
  });

  it('rejects an unknown choice with a message listing the valid ones', () => {
    expect(() => candidateBackends('cuda')).toThrow(UnknownBackendError);
    expect(() => candidateBackends('cuda')).toThrow('Unknown backend "cuda". Valid choices: auto, webgpu, webgl, wasm, cpu.');
  });
});

describe('resolveBackend', () => {
  const availableOnly =
    (...available: BackendName[]) =>
    async (backend: BackendName) =>
      available.includes(backend);

  it('takes the first backend that works and says why the others were skipped', async () => {
    const tried: BackendName[] = [];
    const resolved = await resolveBackend('auto', async (backend) => {
      tried.push(backend);
      if (backend === 'webgpu') throw new Error('no adapter');
      return backend === 'wasm';
    });
    expect(resolved.backend).toBe('wasm');
    expect(tried).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(resolved.skipped).toEqual([
      { backend: 'webgpu', error: 'no adapter' },
      { backend: 'webgl', error: 'not available in this browser' },
    ]);
  });

  it('prefers webgpu when everything works', async () => {
    await expect(resolveBackend('auto', availableOnly(...BACKEND_ORDER))).resolves.toMatchObject({ backend: 'webgpu', skipped: [] });
  });

  it('fails an explicit choice that cannot start instead of silently using another', async () => {
    const error = await resolveBackend('webgpu', availableOnly('cpu')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoBackendAvailableError);
    expect((error as Error).message).toContain('webgpu (not available in this browser)');
  });

  it('rejects an unknown choice before trying anything', async () => {
    let calls = 0;
    await expect(resolveBackend('tpu', async () => (calls++, true))).rejects.toThrow(UnknownBackendError);
    expect(calls).toBe(0);
  });
});

describe('isSoftwareRenderer', () => {
  it('names SwiftShader, llvmpipe and WebGPU fallback adapters as software, real GPUs not', () => {
    for (const device of ['google · swiftshader', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'intel · gen-12lp (software fallback)']) {
      expect(isSoftwareRenderer(device), device).toBe(true);
    }
    for (const device of ['nvidia · hopper · NVIDIA H100 80GB HBM3', 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0, D3D11)', 'apple · metal-3', 'WebAssembly (SIMD, single thread)']) {
      expect(isSoftwareRenderer(device), device).toBe(false);
    }
  });
});
