import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMD_MODULES } from '../../src/lib/backends/wasm-kernels/simd/modules.generated';
import { openStudio, type Studio } from './harness';

// Loupe's GEMMs with relaxed SIMD's fused multiply-add, run where the trainer runs them: a worker of the
// studio's cross-origin isolated page, on a shared memory as tfjs's threaded build has. The Node unit
// tests prove the kernels through tfjs; this proves the browser's own relaxed_madd (operand order, the
// shared-memory build, a worker's feature detection), on one image's GEMMs of both backbones at 128².

/** rows × K × N: rows = output pixels, K = kernel area × input channels, N = output channels. */
const SHAPES: [string, number, number, number][] = [
  ['ResNet18 stem 7×7/2 3→64', 4096, 147, 64],
  ['ResNet18 layer1 3×3 64→64', 1024, 576, 64],
  ['ResNet18 layer2 3×3/2 64→128', 256, 576, 128],
  ['ResNet18 layer3 3×3 256→256', 64, 2304, 256],
  ['ResNet18 layer4 3×3 512→512', 16, 4608, 512],
  ['ResNet18 layer4 1×1/2 256→512', 16, 256, 512],
  ['MobileNetV3-Small stem 3×3/2 3→16', 4096, 27, 16],
  ['MobileNetV3-Small 1×1 16→72 @32²', 1024, 16, 72],
  ['MobileNetV3-Small 1×1 96→576 @4²', 16, 96, 576],
  ['MobileNetV3-Small 1×1 48→144 @7² (odd rows)', 49, 48, 144],
  ['MobileNetV3-Small squeeze-excite 576→144, batch 3', 3, 576, 144],
];

interface Result {
  name: string;
  kernel: string;
  /** max |C − exact| / Σ|a·b| over the outputs (0 = exact). */
  fused: number;
  plain: number;
  /** Outputs where the fused build's bits differ from the two-rounding build's. */
  changed: number;
}

/** Runs in the worker: both builds of gemm.wat on one shared memory, against a float64 reference. */
function check(args: { modules: NonNullable<typeof SIMD_MODULES.gemm>; shapes: typeof SHAPES }): { shared: boolean; results: Result[] } {
  const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const memory = new WebAssembly.Memory({ initial: 4096, maximum: 65536, shared: true });
  type Gemm = { gemm_atb(...a: number[]): void; gemm_ab(...a: number[]): void };
  const instance = (b64: string) => new WebAssembly.Instance(new WebAssembly.Module(decode(b64)), { env: { memory } }).exports as unknown as Gemm;
  const plain = instance(args.modules.shared);
  const fused = instance(args.modules.relaxed!.shared);
  const f = new Float32Array(memory.buffer);
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const results: Result[] = [];
  for (const [name, rows, k0, N] of args.shapes) {
    const K = Math.ceil(k0 / 4) * 4; // as the kernels pad K (zero columns)
    const A = 0;
    const B = A + rows * K;
    const C = B + Math.max(rows, K) * N;
    const D = C + Math.max(rows, K) * N;
    for (let i = 0; i < rows * K; i++) f[A + i] = i % K < k0 ? random() : 0;
    for (let i = 0; i < Math.max(rows, K) * N; i++) f[B + i] = random();
    const compare = (kernel: string, outRows: number, exact: (r: number, n: number) => [number, number]) => {
      const r: Result = { name, kernel, fused: 0, plain: 0, changed: 0 };
      for (let i = 0; i < outRows; i++) {
        for (let n = 0; n < N; n++) {
          const [sum, magnitude] = exact(i, n);
          const x = f[D + i * N + n]!;
          const y = f[C + i * N + n]!;
          r.fused = Math.max(r.fused, Math.abs(x - sum) / (magnitude || 1));
          r.plain = Math.max(r.plain, Math.abs(y - sum) / (magnitude || 1));
          if (x !== y) r.changed++;
        }
      }
      results.push(r);
    };
    // The filter gradient: C[K×N] += Aᵀ·B over the rows (C zeroed first).
    f.fill(0, C, C + K * N);
    f.fill(0, D, D + K * N);
    plain.gemm_atb(A * 4, K, B * 4, N, rows, K, N, C * 4);
    fused.gemm_atb(A * 4, K, B * 4, N, rows, K, N, D * 4);
    compare('gemm_atb', K, (k, n) => {
      let sum = 0;
      let magnitude = 0;
      for (let m = 0; m < rows; m++) {
        const p = f[A + m * K + k]! * f[B + m * N + n]!;
        sum += p;
        magnitude += Math.abs(p);
      }
      return [sum, magnitude];
    });
    // The forward pass and input gradient: C[rows×N] = A·B with B K×N.
    plain.gemm_ab(A * 4, K, B * 4, N, C * 4, N, rows, K, N);
    fused.gemm_ab(A * 4, K, B * 4, N, D * 4, N, rows, K, N);
    compare('gemm_ab', rows, (m, n) => {
      let sum = 0;
      let magnitude = 0;
      for (let k = 0; k < K; k++) {
        const p = f[A + m * K + k]! * f[B + k * N + n]!;
        sum += p;
        magnitude += Math.abs(p);
      }
      return [sum, magnitude];
    });
  }
  return { shared: memory.buffer instanceof SharedArrayBuffer, results };
}

describe("Loupe's GEMMs with relaxed SIMD in Chromium", () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
  }, 120_000);
  afterAll(async () => studio?.close());

  it("multiply-add a·b + c in one rounding in the studio's worker, on shared memory, on both backbones' shapes", async () => {
    const { page } = studio;
    await page.locator('main h1').first().waitFor();
    await expect(page.evaluate(() => crossOriginIsolated)).resolves.toBe(true);
    const outcome = await page.evaluate(
      ({ source, args }) =>
        new Promise<ReturnType<typeof check>>((resolve, reject) => {
          const url = URL.createObjectURL(new Blob([`onmessage = (e) => postMessage((${source})(e.data));`], { type: 'text/javascript' }));
          const worker = new Worker(url);
          worker.onmessage = (e) => {
            worker.terminate();
            resolve(e.data as ReturnType<typeof check>);
          };
          worker.onerror = (e) => reject(new Error(e.message));
          worker.postMessage(args);
        }),
      { source: check.toString(), args: { modules: SIMD_MODULES.gemm!, shapes: SHAPES } },
    );
    expect(outcome.shared).toBe(true);
    expect(outcome.results).toHaveLength(2 * SHAPES.length);
    for (const r of outcome.results) {
      // float32 sums over up to 4,608 products: a few ulps of Σ|a·b|; a wrong operand order or memory is O(1).
      expect(r.fused, `${r.kernel} ${r.name}`).toBeLessThan(1e-5);
      expect(r.plain, `${r.kernel} ${r.name}`).toBeLessThan(1e-5);
    }
    // The fused build really rounds once: its bits differ from mul + add's on most outputs of a long sum.
    const long = outcome.results.find((r) => r.name.startsWith('ResNet18 layer3') && r.kernel === 'gemm_ab')!;
    expect(long.changed).toBeGreaterThan(256 * 64 * 0.5);
    expect(studio.errors).toEqual([]);
  }, 180_000);
});
