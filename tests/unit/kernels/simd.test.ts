import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simdKernels } from '../../../src/lib/backends/wasm-kernels/simd/module';
import { compileSimdKernels, generatedSource } from '../../../scripts/wasm/compile';
import { startWasm } from './wasm';

const dir = new URL('../../../src/lib/backends/wasm-kernels/simd/', import.meta.url);

describe('the SIMD kernels module', () => {
  it('is what kernels.wat compiles to (npm run wasm:build regenerates it)', async () => {
    const wat = readFileSync(new URL('kernels.wat', dir), 'utf8');
    const generated = readFileSync(new URL('kernels.generated.ts', dir), 'utf8');
    expect(generated).toBe(generatedSource(await compileSimdKernels(wat)));
  });

  it("instantiates on the wasm backend's own memory in Node (so the kernel tests exercise it)", async () => {
    const backend = await startWasm();
    const kernels = simdKernels(backend);
    expect(kernels).not.toBeNull();
    expect(typeof kernels!.depthwise_filter_grad).toBe('function');
  });
});
