import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { GemmHelpers, type RowLayout, type RowOp, type PartOp, type BatchedAb, type BatchedAtb, type ConvArgs, type DepthwiseArgs, type DepthwiseOp, type SpawnHelper, type WinogradArgs, type WinogradOp } from '../gemm-helpers';
import { SIMD_MODULES } from './modules.generated';

// Loupe's SIMD kernels: hand-written WebAssembly text (the .wat files beside this one), compiled by
// `npm run wasm:build` with wabt. Each module imports the wasm backend's own memory, so a kernel reads
// and writes tensors where they are: every pointer is a byte offset into that heap, and nothing is
// copied. f32x4 lanes; each module is built twice, for the plain memory of tfjs's simd build and the
// shared memory of its threaded build (a cross-origin isolated page). The GEMMs (gemm.wat) are built once
// more with relaxed SIMD's fused multiply-add, used where the runtime validates it (Chromium by default,
// Node with `--experimental-wasm-relaxed-simd`): one rounding per multiply-add instead of two, so their
// sums differ from tfjs's float32 kernels in the last bits (well within the tests' 1e-4).

/** The exports of every module: pointers are byte offsets into the wasm backend's heap. */
export interface SimdKernels {
  /**
   * depthwise.wat: a depthwise filter gradient (multiplier 1, channels a multiple of 4) into double
   * accumulators, one set per group of `groupImages` images, `accStride` bytes apart.
   */
  depthwise_filter_grad(x: number, dy: number, acc: number, ...args: [...DepthwiseArgs, groupImages: number, accStride: number]): void;
  /** depthwise.wat: `out[i] (f32) = Σ_g acc[g·size + i]` over `groups` sets of `size` doubles, in order, rounded once; size a multiple of 4. */
  sum_groups(acc: number, groups: number, size: number, out: number): void;
  /** depthwise.wat: a depthwise input gradient (multiplier 1, channels a multiple of 4) written to dx. */
  depthwise_input_grad(dy: number, filter: number, dx: number, ...geometry: DepthwiseArgs): void;
  /** depthwise.wat: a depthwise forward pass (multiplier 1, channels a multiple of 4) written to y. */
  depthwise_forward(x: number, filter: number, y: number, ...geometry: DepthwiseArgs): void;
  /** pool.wat: a max-pool gradient (channels a multiple of 4) added into a zeroed dx, as pool.ts's maxPoolGrad. */
  max_pool_grad(
    x: number, dy: number, dx: number,
    batch: number, inH: number, inW: number, C: number, outH: number, outW: number,
    fH: number, fW: number, sH: number, sW: number, dH: number, dW: number, padTop: number, padLeft: number,
  ): void;
  /** copy.wat: runs of `bytes` bytes over three outer axes, strides in bytes (slice-pad.ts). */
  copy_runs(
    src: number, s0: number, s1: number, s2: number, dst: number, d0: number, d1: number, d2: number,
    n0: number, n1: number, n2: number, bytes: number,
  ): void;
  /** copy.wat: `bytes` zero bytes at dst. */
  zero_bytes(dst: number, bytes: number): void;
  /** activations.wat: hard-swish / hard-sigmoid of `count` floats (a multiple of 4). */
  hard_swish(x: number, out: number, count: number): void;
  hard_sigmoid(x: number, out: number, count: number): void;
  /** activations.wat: their input gradients given dy, `count` floats (a multiple of 4). */
  hard_swish_grad(x: number, dy: number, dx: number, count: number): void;
  hard_sigmoid_grad(x: number, dy: number, dx: number, count: number): void;
  relu_grad(x: number, dy: number, dx: number, count: number): void;
  /** batch-norm.wat: `sum[c] (f64) += Σ (x − shift[c])`, `sq[c] (f64) += Σ (x − shift[c])²` over `pixels` rows of C. */
  bn_shifted_moments(x: number, shift: number, sum: number, sq: number, pixels: number, C: number): void;
  /**
   * batch-norm.wat: `sumDy[c] (f64) += Σ dy`, `sumDyDev[c] (f64) += Σ dy · (x − mean[c])`, with dy = dz (act 0)
   * or act′(y)·dz at `y = (x − mean)·scale + shift` (act 1 ReLU, 2 hard-swish), then also written to out.
   */
  bn_backward_sums(
    x: number, dz: number, mean: number, scale: number, shift: number, out: number, sumDy: number, sumDyDev: number, pixels: number, C: number, act: number,
  ): void;
  /** `op` once per row of `parts` (its arguments): on the helper threads too where some run. */
  parts(op: PartOp, parts: readonly (readonly number[])[]): void;
  /** batch-norm.wat: `out = (x − mean)·scale + shift (+ dy·dyScale when dy ≠ 0)`, per channel. */
  bn_apply(x: number, mean: number, scale: number, shift: number, dy: number, dyScale: number, out: number, pixels: number, C: number): void;
  /** batch-norm.wat: `out = act((x − mean)·scale + shift)`, act 0 none, 1 ReLU, 2 hard-swish. */
  bn_forward(x: number, mean: number, scale: number, shift: number, out: number, pixels: number, C: number, act: number): void;
  /** channels.wat: `out = x · s` with s one channel vector (sStride 0) or one per outer index; C a multiple of 4. */
  mul_channels(x: number, s: number, out: number, outer: number, pixels: number, C: number, sStride: number): void;
  /** channels.wat: `out = x − s`, the same broadcast as mul_channels. */
  sub_channels(x: number, s: number, out: number, outer: number, pixels: number, C: number, sStride: number): void;
  /** channels.wat: `out = x + s`, the same broadcast as mul_channels (a convolution's bias). */
  add_channels(x: number, s: number, out: number, outer: number, pixels: number, C: number, sStride: number): void;
  /** channels.wat: `acc[o, i] (f64) += Σ_m x[o, m, i]`; inner a multiple of 4. */
  sum_middle(x: number, acc: number, outer: number, middle: number, inner: number): void;
  /** gemm.wat: `C[K×N] += Aᵀ·B` for A rows × K (leading dimension lda floats), B rows × N (ldb); K, N multiples of 4. */
  gemm_atb(A: number, lda: number, B: number, ldb: number, rows: number, K: number, N: number, C: number): void;
  /** gemm.wat: gemm_atb into C with `ldc` floats a row, A's rows summed in chunks of `chunk` (gemm_atb picks it from K + N). */
  gemm_atb_chunked(A: number, lda: number, B: number, ldb: number, rows: number, K: number, N: number, C: number, ldc: number, chunk: number): void;
  /** gemm.wat: dst (cols × rows) = srcᵀ for src rows × cols, both multiples of 4. */
  transpose(src: number, dst: number, rows: number, cols: number): void;
  /** gemm.wat: `count` gemm_ab products of one shape, operands strideA / strideB / strideC floats apart. */
  gemm_ab_batched(...args: BatchedAb): void;
  /** gemm.wat: `count` gemm_atb_chunked products of one shape, likewise. */
  gemm_atb_batched(...args: BatchedAtb): void;
  /** gemm.wat: im2col rows of output pixels p0..p1 (counted from x's first image) into col, `ld` floats a row. */
  im2col(x: number, col: number, ld: number, p0: number, p1: number, ...geometry: ConvArgs): void;
  /** gemm.wat: adds im2col-shaped rows of images b0..b1 (dcol from image b0's first row) onto dx. */
  col2im(dcol: number, dx: number, b0: number, b1: number, ...geometry: ConvArgs): void;
  /** gemm.wat: `C[M×N] = A·B` for A M×K (lda floats), B K×N (ldb floats), C (ldc floats); N a multiple of 4. */
  gemm_ab(A: number, lda: number, B: number, ldb: number, C: number, ldc: number, M: number, K: number, N: number): void;
  /** gemm.wat: Winograd F(4×4, 3×3) input tiles V = Bᵀ d B of tiles t0..t1 (winograd.ts has the layout). */
  wino_input(
    x: number, V: number, stride: number, t0: number, t1: number,
    H: number, W: number, C: number, TH: number, TW: number, padTop: number, padLeft: number, zeros: number,
  ): void;
  /** gemm.wat: Winograd output pixels y = Aᵀ m A of tiles t0..t1. */
  wino_output(M: number, y: number, stride: number, t0: number, t1: number, OH: number, OW: number, K: number, TH: number, TW: number, discard: number): void;
  /** gemm.wat: Winograd output-gradient tiles D = A dy Aᵀ of tiles t0..t1. */
  wino_output_grad(dy: number, D: number, stride: number, t0: number, t1: number, OH: number, OW: number, K: number, TH: number, TW: number, zeros: number): void;
  /** gemm.wat: transformed filters U = G g Gᵀ (taps reversed when `flip`). */
  wino_filter(src: number, U: number, stride: number, rows: number, cols: number, rowStride: number, tapStride: number, flip: number): void;
  /** gemm.wat: the 3×3 filter gradient Gᵀ s G of `count` summed products. */
  wino_filter_grad(sums: number, dW: number, count: number, stride: number): void;
  /** adam.wat: one Adam step of `count` floats (value, m, v, gradient in; new value, m, v out), as tfjs rounds it. */
  adam_step(
    value: number, m: number, v: number, gradient: number, outValue: number, outM: number, outV: number, count: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number,
    oneMinusAccBeta1: number, oneMinusAccBeta2: number, epsilon: number, negativeLearningRate: number,
  ): void;
}

/** The Emscripten module inside tfjs-backend-wasm: its memory is `asm.memory`, or `wasmMemory` (threaded build). */
interface EmscriptenModule {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const instances = new WeakMap<BackendWasm, Map<boolean, SimdKernels | null>>();

// The smallest module using f32x4.relaxed_madd: (func (param v128 v128 v128) (result v128) (relaxed_madd 0 1 2)).
const RELAXED_PROBE = 'AGFzbQEAAAABCAFgA3t7ewF7AwIBAAoNAQsAIAAgASAC/YUCCw==';
let relaxedValid: boolean | undefined;
let relaxedWanted = true;

/** Whether this runtime compiles relaxed SIMD (checked once). */
export function relaxedSimdSupported(): boolean {
  if (relaxedValid === undefined) {
    try {
      relaxedValid = WebAssembly.validate(decode(RELAXED_PROBE));
    } catch {
      relaxedValid = false;
    }
  }
  return relaxedValid;
}

/**
 * Whether the GEMMs use relaxed SIMD's fused multiply-add where the runtime has it (default true); false
 * takes the two-rounding build everywhere (tests and benches compare the two). Applies to kernels bound after.
 */
export function useRelaxedSimd(enabled: boolean): void {
  relaxedWanted = enabled;
}

/** Whether kernels bound now multiply-add in one rounding. */
export function relaxedSimdInUse(): boolean {
  return relaxedWanted && relaxedSimdSupported();
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Each binary compiled once per context: the kernels and the helper threads instantiate the same module. */
const compiled = new Map<string, WebAssembly.Module>();
function compile(base64: string): WebAssembly.Module {
  let module = compiled.get(base64);
  if (!module) compiled.set(base64, (module = new WebAssembly.Module(decode(base64))));
  return module;
}

function memoryOf(backend: BackendWasm): WebAssembly.Memory | undefined {
  const emscripten = backend.wasm as unknown as EmscriptenModule;
  const memory = emscripten.wasmMemory ?? emscripten.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The modules whose exports helper threads run (gemm-helpers.ts's OPS). */
const HELPER_MODULES = ['gemm', 'depthwise', 'activations', 'batch-norm'];

/** The rows of each row-wise pass (gemm-helpers.ts's ROW_OPS), by its arguments. */
const ACTIVATION_ROWS = (pointers: number): RowLayout => ({ moving: [...Array(pointers).keys()], count: pointers, unit: 4, rowBytes: () => 16 });
export const ROW_LAYOUTS: Record<RowOp, RowLayout> = {
  hard_swish: ACTIVATION_ROWS(2),
  hard_sigmoid: ACTIVATION_ROWS(2),
  hard_swish_grad: ACTIVATION_ROWS(3),
  hard_sigmoid_grad: ACTIVATION_ROWS(3),
  relu_grad: ACTIVATION_ROWS(3),
  // Rows of C floats: x and out move; the pixels count them.
  bn_forward: { moving: [0, 4], count: 5, unit: 1, rowBytes: (args) => args[6]! * 4 },
};

/** The running helper threads, for the memory and GEMM build they were started with. */
let helpers: { memory: WebAssembly.Memory; relaxed: boolean; pool: GemmHelpers } | undefined;

/**
 * Starts `count` helper threads that share Loupe's GEMMs with the thread calling the kernels (gemm-helpers.ts),
 * on this backend's memory, with the GEMM build in use now (FMA or not). Needs tfjs's threaded build (a
 * shared memory) and a thread that may block (a worker, or Node): resolves to the helpers running, 0 where
 * they cannot. Replaces helpers started before.
 */
export async function startGemmHelpers(backend: BackendWasm, count: number, spawn: SpawnHelper): Promise<number> {
  stopGemmHelpers();
  const memory = memoryOf(backend);
  if (!memory || !isShared(memory) || count < 1) return 0;
  const relaxed = relaxedSimdInUse();
  const modules = HELPER_MODULES.map((name) => {
    const binaries = SIMD_MODULES[name]!;
    return compile((relaxed && binaries.relaxed ? binaries.relaxed : binaries).shared);
  });
  const pool = await GemmHelpers.start(memory, modules, count, spawn);
  if (pool) helpers = { memory, relaxed, pool };
  return pool?.count ?? 0;
}

/** Ends the helper threads: the GEMMs run on the calling thread alone again. */
export function stopGemmHelpers(): void {
  helpers?.pool.stop();
  helpers = undefined;
}

/** How many helper threads share the GEMMs of kernels bound to this backend now (0: none). */
export function gemmHelperCount(backend: BackendWasm): number {
  return helpers && helpers.memory === memoryOf(backend) && helpers.relaxed === relaxedSimdInUse() ? helpers.pool.count : 0;
}

/** Parts of GEMMs, im2col and col2im the running helpers have computed (benches and tests read it). */
export function gemmHelperParts(): number {
  return helpers?.pool.partsHandedOut ?? 0;
}

/** The GEMMs and the layout work around them (im2col, col2im, Winograd's transforms), the depthwise passes, the activations and BatchNorm's sums of `raw`, split across the helper threads whenever some run on `memory` with the same build. */
function withHelpers(raw: SimdKernels, memory: WebAssembly.Memory, relaxed: boolean): SimdKernels {
  const pool = () => (helpers && helpers.memory === memory && helpers.relaxed === relaxed ? helpers.pool : undefined);
  const winograd =
    (op: WinogradOp) =>
    (first: number, second: number, ...rest: WinogradArgs): void => {
      const p = pool();
      if (p) p.winograd(raw, op, first, second, rest);
      else (raw[op] as (...args: number[]) => void)(first, second, ...rest);
    };
  const depthwise =
    (op: DepthwiseOp) =>
    (source: number, filter: number, target: number, ...geometry: DepthwiseArgs): void => {
      const p = pool();
      if (p) p.depthwise(raw, op, source, filter, target, geometry);
      else raw[op](source, filter, target, ...geometry);
    };
  const rowwise =
    (op: RowOp) =>
    (...args: number[]): void => {
      const p = pool();
      if (p) p.rows(raw, op, args, ROW_LAYOUTS[op]);
      else (raw[op] as (...a: number[]) => void)(...args);
    };
  return {
    ...raw,
    gemm_ab: (A, lda, B, ldb, C, ldc, M, K, N) => {
      const p = pool();
      if (p) p.gemmAb(raw, A, lda, B, ldb, C, ldc, M, K, N);
      else raw.gemm_ab(A, lda, B, ldb, C, ldc, M, K, N);
    },
    gemm_atb: (A, lda, B, ldb, rows, K, N, C) => {
      const p = pool();
      if (p) p.gemmAtb(raw, A, lda, B, ldb, rows, K, N, C);
      else raw.gemm_atb(A, lda, B, ldb, rows, K, N, C);
    },
    gemm_ab_batched: (...args) => {
      const p = pool();
      if (p) p.gemmAbBatched(raw, args);
      else raw.gemm_ab_batched(...args);
    },
    gemm_atb_batched: (...args) => {
      const p = pool();
      if (p) p.gemmAtbBatched(raw, args);
      else raw.gemm_atb_batched(...args);
    },
    im2col: (x, col, ld, p0, p1, ...geometry) => {
      const p = pool();
      if (p) p.im2col(raw, x, col, ld, p0, p1, geometry);
      else raw.im2col(x, col, ld, p0, p1, ...geometry);
    },
    col2im: (dcol, dx, b0, b1, ...geometry) => {
      const p = pool();
      if (p) p.col2im(raw, dcol, dx, b0, b1, geometry);
      else raw.col2im(dcol, dx, b0, b1, ...geometry);
    },
    wino_input: winograd('wino_input'),
    wino_output: winograd('wino_output'),
    wino_output_grad: winograd('wino_output_grad'),
    depthwise_forward: depthwise('depthwise_forward'),
    depthwise_input_grad: depthwise('depthwise_input_grad'),
    depthwise_filter_grad: (x, dy, acc, ...args) => {
      const p = pool();
      if (p) p.depthwiseFilterGrad(raw, x, dy, acc, args);
      else raw.depthwise_filter_grad(x, dy, acc, ...args);
    },
    hard_swish: rowwise('hard_swish'),
    hard_sigmoid: rowwise('hard_sigmoid'),
    hard_swish_grad: rowwise('hard_swish_grad'),
    hard_sigmoid_grad: rowwise('hard_sigmoid_grad'),
    relu_grad: rowwise('relu_grad'),
    bn_forward: rowwise('bn_forward'),
    parts: (op, parts) => {
      const p = pool();
      if (p) p.parts(raw, op, parts);
      else raw.parts(op, parts);
    },
  };
}

/** `parts` on the calling thread alone: each row of arguments in turn. */
function partsInTurn(raw: SimdKernels): SimdKernels['parts'] {
  return (op, parts) => {
    for (const args of parts) (raw[op] as (...a: number[]) => void)(...args);
  };
}

/**
 * Loupe's SIMD kernels bound to this backend's memory, instantiated on first use; null where they cannot
 * run (no wasm SIMD, a backend build whose memory is not reachable): the TypeScript kernels serve then.
 * Synchronous compilation is fine for modules this small (a few KiB), also on a page's main thread.
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  const relaxed = relaxedSimdInUse();
  let bound = instances.get(backend);
  if (!bound) instances.set(backend, (bound = new Map()));
  if (bound.has(relaxed)) return bound.get(relaxed)!;
  let kernels: SimdKernels | null = null;
  try {
    const memory = memoryOf(backend);
    if (memory) {
      const shared = isShared(memory);
      const exports = {};
      for (const binaries of Object.values(SIMD_MODULES)) {
        const variant = relaxed && binaries.relaxed ? binaries.relaxed : binaries;
        const module = compile(shared ? variant.shared : variant.plain);
        Object.assign(exports, new WebAssembly.Instance(module, { env: { memory } }).exports);
      }
      const alone = { ...exports, parts: partsInTurn(exports as SimdKernels) } as SimdKernels;
      kernels = shared ? withHelpers(alone, memory, relaxed) : alone;
    }
  } catch {
    kernels = null; // No wasm SIMD here (or a memory it cannot import): the TypeScript kernels serve.
  }
  bound.set(relaxed, kernels);
  return kernels;
}
