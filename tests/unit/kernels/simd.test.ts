import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simdKernels } from '../../../src/lib/backends/wasm-kernels/simd/module';
import { generatedSource, readSimdSources } from '../../../scripts/wasm/compile';
import { startWasm } from './wasm';

const dir = fileURLToPath(new URL('../../../src/lib/backends/wasm-kernels/simd/', import.meta.url));

describe('the SIMD kernel modules', () => {
  it('are what the .wat files compile to (npm run wasm:build regenerates them)', async () => {
    const generated = readFileSync(`${dir}modules.generated.ts`, 'utf8');
    expect(generated).toBe(await generatedSource(readSimdSources(dir)));
  });

  it("instantiate on the wasm backend's own memory in Node (so the kernel tests exercise them)", async () => {
    const backend = await startWasm();
    const kernels = simdKernels(backend);
    expect(kernels).not.toBeNull();
    const exports: (keyof NonNullable<typeof kernels>)[] = [
      'depthwise_filter_grad', 'depthwise_input_grad', 'depthwise_forward', 'copy_runs', 'zero_bytes', 'max_pool_grad', 'gemm_atb', 'mul_channels', 'sub_channels', 'add_channels', 'sum_middle',
      'hard_swish', 'hard_sigmoid', 'hard_swish_grad', 'hard_sigmoid_grad', 'relu_grad', 'bn_shifted_moments', 'bn_backward_sums', 'bn_apply', 'bn_forward', 'parts', 'adam_step',
    ];
    for (const name of exports) expect(typeof kernels![name], name).toBe('function');
  });
});
