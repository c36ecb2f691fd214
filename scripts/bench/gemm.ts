/**
 * `npx tsx scripts/bench/gemm.ts`: Loupe's wasm GEMMs (simd/gemm.wat) on their own — no tfjs, one thread —
 * against this machine's measured peak for 4-wide wasm SIMD: a loop of independent multiply-adds in
 * registers, as mul + add and as relaxed SIMD's fused multiply-add. Minimum of --reps runs (the machine is
 * shared: the fastest run is the one the scheduler left alone), load average printed.
 *
 *   npx tsx scripts/bench/gemm.ts --reps 15
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import wabt from 'wabt';
import { enableRelaxedSimdInNode } from '../../src/cli/relaxed-simd';
import { SIMD_MODULES } from '../../src/lib/backends/wasm-kernels/simd/modules.generated';
import { GemmHelpers, type Gemms } from '../../src/lib/backends/wasm-kernels/gemm-helpers';
import { spawnGemmHelperInNode } from '../../src/cli/gemm-helpers';
import { expandMadd } from '../wasm/compile';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '9' }, threads: { type: 'string', default: '1' } } });
const reps = Number(args.reps);
const threads = Number(args.threads);
enableRelaxedSimdInNode();

// 12 independent accumulators (more than an FMA's latency × throughput), `iterations` × 12 multiply-adds of 4 lanes.
const PEAK = `(module (func (export "peak") (param $n i32) (result f32)
  ${Array.from({ length: 12 }, (_, i) => `(local $c${i} v128)`).join(' ')} (local $a v128) (local $b v128)
  (local.set $a (f32x4.splat (f32.const 0.999))) (local.set $b (f32x4.splat (f32.const 0.001)))
  (loop $l
    ${Array.from({ length: 12 }, (_, i) => `(local.set $c${i} (@MADD@ (local.get $a) (local.get $c${i}) (local.get $b)))`).join('\n    ')}
    (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l (local.get $n)))
  (f32x4.extract_lane 0 (f32x4.add ${Array.from({ length: 11 }, (_, i) => `(f32x4.add (local.get $c${i})`).join(' ')} (local.get $c11)${')'.repeat(11)} (local.get $c0)))))`;

const toolkit = await wabt();
function compileText(text: string): WebAssembly.Module {
  const module = toolkit.parseWat('peak.wat', text, { simd: true, relaxed_simd: true });
  try {
    return new WebAssembly.Module(module.toBinary({}).buffer as Uint8Array<ArrayBuffer>);
  } finally {
    module.destroy();
  }
}

function minMs(run: () => void): number {
  run();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const load = () => os.loadavg()[0]!.toFixed(2);
console.log(`${os.cpus()[0]?.model.trim()} × ${os.cpus().length}, Node ${process.version}; GEMMs on ${threads} thread${threads === 1 ? '' : 's'} (${threads > 1 ? 'shared' : 'plain'} memory); load average ${load()}; min of ${reps}\n`);
const rows: string[][] = [];
for (const fused of [false, true]) {
  const peak = new WebAssembly.Instance(compileText(expandMadd(PEAK, fused))).exports as { peak(n: number): number };
  const n = 2_000_000;
  const ms = minMs(() => peak.peak(n));
  rows.push([`peak, ${fused ? 'relaxed FMA' : 'mul + add'}`, '—', ms.toFixed(2), ((n * 12 * 8) / (ms / 1000) / 1e9).toFixed(1)]);
}

// Shared (as tfjs's threaded build's) when helper threads take part of each GEMM.
const memory = new WebAssembly.Memory({ initial: 4096, maximum: 65536, shared: threads > 1 });
const heap = new Float32Array(memory.buffer);
for (let i = 0; i < heap.length; i++) heap[i] = ((i * 7919) % 1000) / 1000 - 0.5;
const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const variants = { 'mul + add': SIMD_MODULES['gemm']!.plain, 'relaxed FMA': SIMD_MODULES['gemm']!.relaxed!.plain };
if (threads > 1) Object.assign(variants, { 'mul + add': SIMD_MODULES['gemm']!.shared, 'relaxed FMA': SIMD_MODULES['gemm']!.relaxed!.shared });
// ResNet18 at 128², batch 16: M = output pixels × batch, K = 3·3·inC, N = outC.
const shapes: [string, number, number, number][] = [
  ['layer1 3×3 64→64 @32²', 16384, 576, 64],
  ['layer2 3×3 128→128 @16²', 4096, 1152, 128],
  ['layer3 3×3 256→256 @8²', 1024, 2304, 256],
  ['layer4 3×3 512→512 @4²', 256, 4608, 512],
];
for (const [variant, binary] of Object.entries(variants)) {
  const module = new WebAssembly.Module(decode(binary));
  const g = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Gemms;
  const helpers = threads > 1 ? await GemmHelpers.start(memory, [module], threads - 1, spawnGemmHelperInNode) : null;
  if (threads > 1 && !helpers) throw new Error('the GEMM helpers did not start');
  for (const [layer, M, K, N] of shapes) {
    const A = 0;
    const B = A + M * K * 4;
    const C = B + K * N * 4;
    const flops = 2 * M * K * N;
    // forward / input gradient: C[M×N] = A[M×K]·B[K×N]
    const ab = minMs(() => (helpers ? helpers.gemmAb(g, A, K, B, N, C, N, M, K, N) : g.gemm_ab(A, K, B, N, C, N, M, K, N)));
    rows.push([`gemm_ab (forward, input gradient), ${variant}`, layer, ab.toFixed(2), (flops / (ab / 1000) / 1e9).toFixed(1)]);
    // filter gradient: W[K×N] += im2col[M×K]ᵀ · dy[M×N]
    const dy = C;
    const dW = dy + M * N * 4;
    const atb = minMs(() => (helpers ? helpers.gemmAtb(g, A, K, dy, N, M, K, N, dW) : g.gemm_atb(A, K, dy, N, M, K, N, dW)));
    rows.push([`gemm_atb (filter gradient), ${variant}`, layer, atb.toFixed(2), (flops / (atb / 1000) / 1e9).toFixed(1)]);
  }
  helpers?.stop();
}
const widths = [0, 1, 2, 3].map((i) => Math.max(...[['kernel', 'shape', 'ms', 'GFLOP/s'], ...rows].map((r) => r[i]!.length)));
for (const row of [['kernel', 'shape', 'ms', 'GFLOP/s'], ...rows]) console.log(row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log(`\nload average at the end ${load()}`);
