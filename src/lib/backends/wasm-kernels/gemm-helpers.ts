// Loupe's GEMMs, depthwise convolutions, activations and BatchNorm's sums on every core. XNNPACK splits
// its own operations across its pthreads, but Loupe's kernels (simd/*.wat) ran on the calling thread
// alone. Helper threads instantiate the same modules on the wasm backend's shared memory, so a GEMM's rows
// (or a depthwise convolution's images, an activation's values) can be divided between the caller and
// them: each writes its own part of the output where it lies, nothing is copied. A tfjs kernel is synchronous, so the caller
// posts a job's parts through a SharedArrayBuffer and every thread, the caller included, claims the next
// unclaimed part until none is left; the caller then waits with Atomics for the parts still running. A
// helper that wakes late (on a busy machine, or from a deep sleep) takes fewer parts instead of holding
// the caller up. The parts are cut so that every element is summed in the same order as on one thread:
// the result is the same bits whichever thread runs which part and whatever the number of helpers
// (tests/unit/kernels/gemm-helpers.test.ts).

import type { ConvGeometry } from './geometry';

/**
 * Int32 words of the control block: the job's sequence number (helpers wait on it), the claim word, the
 * parts finished, the operation, helpers started, parts helpers ran, the stop flag; then the parts' table.
 */
const JOB = 0;
/** The claim word: the job's part count in the high 16 bits, the next unclaimed part in the low 16. */
const CLAIM = 1;
const FINISHED = 2;
const OP = 3;
const READY = 4;
const HELPER_PARTS = 5;
const STOPPED = 6;
/** Where the parts' arguments start, and the words each part's take at most. */
const TABLE = 8;
const ARG_WORDS = 20;
/**
 * Parts a job is cut into per thread at most: a helper that wakes late then leaves the caller more of the
 * small parts instead of one half to wait for.
 */
const PARTS_PER_THREAD = 4;

/**
 * Passes whose every output row depends on the same rows of the inputs alone: threads may divide the rows.
 * The activations, which divide by 6 twice a value, and ReLU's gradient, alone or after a BatchNorm
 * (bn_forward). BatchNorm's apply pass alone, which streams memory at one multiply-add a value, measured
 * no faster divided (stops 29 and 30): it stays on the caller.
 */
export const ROW_OPS = ['hard_swish', 'hard_swish_grad', 'hard_sigmoid', 'hard_sigmoid_grad', 'relu_grad', 'bn_forward'] as const;
export type RowOp = (typeof ROW_OPS)[number];
/**
 * Passes whose parts the caller cuts itself, each summing into sums of its own: BatchNorm's moments and
 * gradient sums (batch-norm-training.ts). The caller adds the parts' sums in order, so the cut, not the
 * threads, fixes the bits.
 */
export const PART_OPS = ['bn_shifted_moments', 'bn_backward_sums'] as const;
export type PartOp = (typeof PART_OPS)[number];
/** Operations: the module's export each runs, a part's arguments being its row of the table. */
const OPS = ['gemm_ab_batched', 'gemm_atb_batched', 'im2col', 'col2im', 'wino_input', 'wino_output', 'wino_output_grad', 'depthwise_forward', 'depthwise_input_grad',
  'depthwise_filter_grad', ...ROW_OPS, ...PART_OPS] as const;
type Op = (typeof OPS)[number];

/**
 * A helper's whole program, plain JavaScript with no imports so that it runs as given in a Node
 * `worker_threads` worker (eval) and in a Blob worker, and no bundler can rename what it refers to. It
 * receives `{ memory, modules, control }` (the first message, or Node's workerData), instantiates the
 * modules on the shared memory, says it is ready, and then waits for jobs. A part's operation and
 * arguments are read only once it is claimed: a claim that succeeds is always one of the posted job's.
 */
export const HELPER_PROGRAM = `
function serve({ memory, modules, control }) {
  const exports = Object.assign({}, ...modules.map((module) => new WebAssembly.Instance(module, { env: { memory } }).exports));
  const ops = ${JSON.stringify(OPS)}.map((name) => exports[name]);
  const words = new Int32Array(control);
  let seen = Atomics.load(words, ${JOB});
  Atomics.add(words, ${READY}, 1);
  Atomics.notify(words, ${READY});
  for (;;) {
    Atomics.wait(words, ${JOB}, seen);
    seen = Atomics.load(words, ${JOB});
    if (Atomics.load(words, ${STOPPED})) return;
    for (;;) {
      const claim = Atomics.load(words, ${CLAIM});
      const parts = claim >>> 16;
      const part = claim & 0xffff;
      if (part >= parts) break;
      if (Atomics.compareExchange(words, ${CLAIM}, claim, claim + 1) !== claim) continue;
      const at = ${TABLE} + part * ${ARG_WORDS};
      ops[words[${OP}]](...words.subarray(at, at + ${ARG_WORDS}));
      Atomics.add(words, ${HELPER_PARTS}, 1);
      if (Atomics.add(words, ${FINISHED}, 1) + 1 === parts) Atomics.notify(words, ${FINISHED});
    }
  }
}`;

/** What a helper is started with (posted to it, or Node's workerData). */
export interface HelperStart {
  memory: WebAssembly.Memory;
  /** The modules whose exports helpers run (the builds the caller's kernels use): compiled once, shared by structured clone. */
  modules: WebAssembly.Module[];
  control: SharedArrayBuffer;
  /** Which helper this is (0-based), for its thread's name. */
  index: number;
}

/** Starts one helper thread running HELPER_PROGRAM with `start`; returns a way to end it. */
export type SpawnHelper = (start: HelperStart) => { terminate(): void };

/** The exports of gemm.wat, depthwise.wat and activations.wat that helpers share (pointers are byte offsets into the shared heap). */
export interface Gemms {
  gemm_ab(A: number, lda: number, B: number, ldb: number, C: number, ldc: number, M: number, K: number, N: number): void;
  gemm_atb(A: number, lda: number, B: number, ldb: number, rows: number, K: number, N: number, C: number): void;
  gemm_atb_chunked(A: number, lda: number, B: number, ldb: number, rows: number, K: number, N: number, C: number, ldc: number, chunk: number): void;
  gemm_ab_batched(...args: BatchedAb): void;
  gemm_atb_batched(...args: BatchedAtb): void;
  im2col(x: number, col: number, ld: number, p0: number, p1: number, ...geometry: ConvArgs): void;
  col2im(dcol: number, dx: number, b0: number, b1: number, ...geometry: ConvArgs): void;
  wino_input(x: number, V: number, ...rest: WinogradArgs): void;
  wino_output(M: number, y: number, ...rest: WinogradArgs): void;
  wino_output_grad(dy: number, D: number, ...rest: WinogradArgs): void;
  depthwise_forward(x: number, filter: number, y: number, ...geometry: DepthwiseArgs): void;
  depthwise_input_grad(dy: number, filter: number, dx: number, ...geometry: DepthwiseArgs): void;
  depthwise_filter_grad(x: number, dy: number, acc: number, ...args: [...DepthwiseArgs, groupImages: number, accStride: number]): void;
  hard_swish(x: number, out: number, count: number): void;
  hard_sigmoid(x: number, out: number, count: number): void;
  hard_swish_grad(x: number, dy: number, dx: number, count: number): void;
  hard_sigmoid_grad(x: number, dy: number, dx: number, count: number): void;
  relu_grad(x: number, dy: number, dx: number, count: number): void;
  bn_forward(x: number, mean: number, scale: number, shift: number, out: number, pixels: number, C: number, act: number): void;
  bn_shifted_moments(x: number, shift: number, sum: number, sq: number, pixels: number, C: number): void;
  bn_backward_sums(
    x: number, dz: number, mean: number, scale: number, shift: number, out: number, sumDy: number, sumDyDev: number, pixels: number, C: number, act: number,
  ): void;
}

/** A depthwise convolution's batch and geometry as depthwise.wat takes them: batch, then ConvArgs. */
export type DepthwiseArgs = [number, ...ConvArgs];

/** The depthwise passes that threads may divide by images. */
export type DepthwiseOp = 'depthwise_forward' | 'depthwise_input_grad';

/** `count` gemm_ab products: A, strideA, lda, B, strideB, ldb, C, strideC, ldc, M, K, N, count (strides in floats). */
export type BatchedAb = [number, number, number, number, number, number, number, number, number, number, number, number, number];
/** `count` gemm_atb products: A, strideA, lda, B, strideB, ldb, rows, K, N, C, ldc, strideC, chunk, count. */
export type BatchedAtb = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];

/** A's rows per chunk of gemm_atb (gemm.wat's rule): where its partial sums round. */
export function atbChunk(K: number, N: number): number {
  return Math.max(16, Math.floor(49152 / (K + N)));
}

/** The Winograd transforms (simd/gemm.wat, winograd.ts), which threads may divide by tiles. */
export type WinogradOp = 'wino_input' | 'wino_output' | 'wino_output_grad';

/**
 * A Winograd transform's arguments after its two pointers: the tile-position stride, tiles t0..t1, the
 * map's height and width, its channels, the tiles down and across, and the rest (padding, scratch).
 */
export type WinogradArgs = [number, number, number, number, number, number, number, number, ...number[]];

/** A convolution's geometry as the layout exports take it: inH, inW, inC, outH, outW, fH, fW, sH, sW, dH, dW, padTop, padLeft. */
export type ConvArgs = [number, number, number, number, number, number, number, number, number, number, number, number, number];

/** A convolution's geometry as gemm.wat's im2col and col2im take it. */
export function convArgs(g: ConvGeometry): ConvArgs {
  return [g.inH, g.inW, g.inC, g.outH, g.outW, g.filterH, g.filterW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft];
}

/** Multiply-adds below which a GEMM stays on the caller: waking a helper costs tens of microseconds. */
export const MIN_SPLIT_MULTIPLY_ADDS = 1 << 21;
/** How long the caller waits for one helper's part by default before it gives up (a part takes milliseconds). */
const PART_TIMEOUT_MS = 60_000;

/** Values per tile and channel of the Winograd transforms (F(4×4, 3×3): a 6×6 tile). */
const WINOGRAD_POSITIONS = 36;

/** Bytes below which im2col or col2im stays on the caller (a copy at memory speed). */
export const MIN_SPLIT_BYTES = 1 << 20;

/** Multiply-adds below which a depthwise pass stays on the caller (it runs at a fifth of a GEMM's speed). */
export const MIN_SPLIT_DEPTHWISE = 1 << 19;

/** Bytes of output below which a row-wise pass (ROW_OPS) stays on the caller. */
export const MIN_SPLIT_ROW_BYTES = 1 << 18;

/**
 * Where a row-wise pass's arguments say what its rows are: the arguments that point at rows (they move
 * with a part), the one that counts them, in units of `unit` rows (an activation counts floats, its rows
 * are vectors of 4), and the bytes of a row given the arguments.
 */
export interface RowLayout {
  moving: readonly number[];
  count: number;
  unit: number;
  rowBytes(args: readonly number[]): number;
}

/** Helper threads sharing Loupe's GEMMs (and the layout work around them: im2col, col2im, Winograd's transforms), depthwise convolutions and activations with the thread that calls them. */
export class GemmHelpers {
  readonly #words: Int32Array;
  readonly #threads: { terminate(): void }[];
  #stopped = false;
  #handedOut = 0;
  readonly #partTimeoutMs: number;

  private constructor(words: Int32Array, threads: { terminate(): void }[], partTimeoutMs: number) {
    this.#words = words;
    this.#threads = threads;
    this.#partTimeoutMs = partTimeoutMs;
  }

  /**
   * Starts `count` helpers on `memory` (it must be shared: tfjs's threaded build) and resolves once every
   * one has instantiated the module, or null when they cannot start within `timeoutMs` (then none runs).
   * Must be awaited before a kernel uses them: a thread's start needs its parent's event loop. A call whose
   * helper has not finished its part after `partTimeoutMs` throws (a helper that died must not hang a job).
   */
  static async start(
    memory: WebAssembly.Memory,
    modules: WebAssembly.Module[],
    count: number,
    spawn: SpawnHelper,
    { timeoutMs = 10_000, partTimeoutMs = PART_TIMEOUT_MS } = {},
  ): Promise<GemmHelpers | null> {
    if (count < 1 || !(memory.buffer instanceof SharedArrayBuffer)) return null;
    const control = new SharedArrayBuffer((TABLE + (count + 1) * PARTS_PER_THREAD * ARG_WORDS) * 4);
    const words = new Int32Array(control);
    const threads: { terminate(): void }[] = [];
    try {
      for (let index = 0; index < count; index++) threads.push(spawn({ memory, modules, control, index }));
      const deadline = Date.now() + timeoutMs;
      while (Atomics.load(words, READY) !== count) {
        if (Date.now() > deadline) throw new Error('a GEMM helper did not start');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } catch {
      for (const thread of threads) thread.terminate();
      return null;
    }
    return new GemmHelpers(words, threads, partTimeoutMs);
  }

  /** Helper threads (the caller is one more). */
  get count(): number {
    return this.#stopped ? 0 : this.#threads.length;
  }

  /** Parts of jobs offered to helper threads so far: every part of a split job but one (a GEMM below the split thresholds offers none). */
  get partsHandedOut(): number {
    return this.#handedOut;
  }

  /** Parts helper threads have run so far (fewer than offered when the caller claimed them first). */
  get partsHelpersRan(): number {
    return Atomics.load(this.#words, HELPER_PARTS);
  }

  /** Ends the helpers; work after this runs on the caller alone. */
  stop(): void {
    if (this.#stopped) return;
    Atomics.store(this.#words, STOPPED, 1);
    Atomics.add(this.#words, JOB, 1);
    Atomics.notify(this.#words, JOB);
    this.#stopped = true;
    for (const thread of this.#threads) thread.terminate();
  }

  /** Into how many parts `work` splits, given `units` indivisible pieces and the smallest worthwhile part. */
  #parts(work: number, units: number, minimum: number): number {
    return this.count === 0 ? 1 : Math.max(1, Math.min((this.count + 1) * PARTS_PER_THREAD, units, Math.floor(work / minimum)));
  }

  /**
   * Runs a job of `parts` parts of `op`, `args(part)` giving a part's arguments: this thread and the
   * helpers claim parts in turn until none is left. Returns once every part is done.
   */
  #fork(parts: number, gemm: Gemms, op: Op, args: (part: number) => number[]): void {
    const run = gemm[op] as (...a: number[]) => void;
    if (parts === 1) {
      run(...args(0));
      return;
    }
    const words = this.#words;
    this.#handedOut += parts - 1;
    words[OP] = OPS.indexOf(op);
    for (let part = 0; part < parts; part++) {
      const row = args(part);
      if (row.length > ARG_WORDS) throw new Error(`${op} takes ${row.length} arguments, more than a part's ${ARG_WORDS}`);
      words.set(row, TABLE + part * ARG_WORDS);
    }
    Atomics.store(words, FINISHED, 0);
    Atomics.store(words, CLAIM, parts << 16);
    Atomics.add(words, JOB, 1);
    Atomics.notify(words, JOB);
    let finished = 0;
    for (let claim = Atomics.load(words, CLAIM); (claim & 0xffff) < parts; claim = Atomics.load(words, CLAIM)) {
      if (Atomics.compareExchange(words, CLAIM, claim, claim + 1) !== claim) continue;
      const at = TABLE + (claim & 0xffff) * ARG_WORDS;
      run(...words.subarray(at, at + ARG_WORDS));
      finished = Atomics.add(words, FINISHED, 1) + 1;
    }
    for (let done = finished; done !== parts; done = Atomics.load(words, FINISHED)) {
      // A helper that died (its worker ended under us) with a part claimed would hang the job: fail it with a reason instead.
      if (Atomics.wait(words, FINISHED, done, this.#partTimeoutMs) === 'timed-out' && Atomics.load(words, FINISHED) !== parts) {
        throw new Error(`a GEMM helper thread did not finish its part within ${this.#partTimeoutMs / 1000} s`);
      }
    }
  }

  /**
   * gemm_ab (C[M×N] = A·B) with M's rows divided among the threads in multiples of 32 (the kernel's row
   * groups): every element is the same dot product in the same order as on one thread.
   */
  gemmAb(gemm: Gemms, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, M: number, K: number, N: number): void {
    this.gemmAbBatched(gemm, [A, 0, lda, B, 0, ldb, C, 0, ldc, M, K, N, 1]);
  }

  /** `count` gemm_ab products, each one's rows divided as gemmAb divides them, in one hand-over. */
  gemmAbBatched(gemm: Gemms, args: BatchedAb): void {
    const [A, strideA, lda, B, strideB, ldb, C, strideC, ldc, M, K, N, count] = args;
    if (M < 32 * (this.count + 1) && count > 1) {
      // Too few rows to give every thread a group of 32: divide the products instead.
      const each = Math.ceil(count / this.#parts(M * K * N * count, count, MIN_SPLIT_MULTIPLY_ADDS));
      this.#fork(Math.ceil(count / each), gemm, 'gemm_ab_batched', (part) => {
        const i0 = part * each;
        return [A + i0 * strideA * 4, strideA, lda, B + i0 * strideB * 4, strideB, ldb, C + i0 * strideC * 4, strideC, ldc, M, K, N, Math.min(each, count - i0)];
      });
      return;
    }
    const rows = Math.max(32, Math.ceil(M / 32 / this.#parts(M * K * N * count, Math.ceil(M / 32), MIN_SPLIT_MULTIPLY_ADDS)) * 32);
    this.#fork(Math.ceil(M / rows), gemm, 'gemm_ab_batched', (part) => {
      const m0 = part * rows;
      return [A + m0 * lda * 4, strideA, lda, B, strideB, ldb, C + m0 * ldc * 4, strideC, ldc, Math.min(rows, M - m0), K, N, count];
    });
  }

  /**
   * gemm_atb (C[K×N] += Aᵀ·B) with C divided among the threads, each part chunking A's rows as the whole
   * product would (gemm.wat's rule), so each sum rounds as on one thread. Every part reads all `rows` rows
   * of one operand: C's K rows are divided (in multiples of 4) when A is the wider, its N columns (in
   * multiples of 8, the kernel's blocks) when B is — so that the operand each part reads whole is the
   * narrow one (a 1×1 convolution from 16 channels to 72 read its 72-wide gradient once a part, and ran
   * slower on two threads than on one).
   */
  gemmAtb(gemm: Gemms, A: number, lda: number, B: number, ldb: number, rows: number, K: number, N: number, C: number): void {
    this.gemmAtbBatched(gemm, [A, 0, lda, B, 0, ldb, rows, K, N, C, N, 0, atbChunk(K, N), 1]);
  }

  /** `count` gemm_atb products, each one's C divided as gemmAtb divides it, in one hand-over. */
  gemmAtbBatched(gemm: Gemms, args: BatchedAtb): void {
    const [A, strideA, lda, B, strideB, ldb, rows, K, N, C, ldc, strideC, chunk, count] = args;
    const work = rows * K * N * count;
    if (K < N) {
      const ns = Math.max(8, Math.ceil(N / 8 / this.#parts(work, Math.ceil(N / 8), MIN_SPLIT_MULTIPLY_ADDS)) * 8);
      this.#fork(Math.ceil(N / ns), gemm, 'gemm_atb_batched', (part) => {
        const n0 = part * ns;
        return [A, strideA, lda, B + n0 * 4, strideB, ldb, rows, K, Math.min(ns, N - n0), C + n0 * 4, ldc, strideC, chunk, count];
      });
      return;
    }
    const ks = Math.max(4, Math.ceil(K / 4 / this.#parts(work, K / 4, MIN_SPLIT_MULTIPLY_ADDS)) * 4);
    this.#fork(Math.ceil(K / ks), gemm, 'gemm_atb_batched', (part) => {
      const k0 = part * ks;
      return [A + k0 * 4, strideA, lda, B, strideB, ldb, rows, Math.min(ks, K - k0), N, C + k0 * ldc * 4, ldc, strideC, chunk, count];
    });
  }

  /** im2col of output pixels p0..p1 into col (`ld` floats a row), the pixels divided among the threads. */
  im2col(gemm: Gemms, x: number, col: number, ld: number, p0: number, p1: number, geometry: ConvArgs): void {
    const pixels = p1 - p0;
    const each = Math.max(1, Math.ceil(pixels / this.#parts(pixels * ld * 4, pixels, MIN_SPLIT_BYTES)));
    this.#fork(Math.ceil(pixels / each), gemm, 'im2col', (part) => {
      const from = p0 + part * each;
      return [x, col + part * each * ld * 4, ld, from, Math.min(p1, from + each), ...geometry];
    });
  }

  /**
   * A Winograd transform of tiles t0..t1, the tiles divided among the threads: each part writes or reads
   * its own tiles' rows of the transformed layout (the pointer laid out by tile moves with the part).
   */
  winograd(gemm: Gemms, op: WinogradOp, first: number, second: number, rest: WinogradArgs): void {
    const [, t0, t1, , , channels] = rest;
    const tiles = t1 - t0;
    const each = Math.max(1, Math.ceil(tiles / this.#parts(tiles * WINOGRAD_POSITIONS * channels * 4, tiles, MIN_SPLIT_BYTES)));
    const tiledFirst = op === 'wino_output'; // the products M are laid out by tile; otherwise the output is
    this.#fork(Math.ceil(tiles / each), gemm, op, (part) => {
      const from = t0 + part * each;
      const shift = part * each * channels * 4;
      const args = [tiledFirst ? first + shift : first, tiledFirst ? second : second + shift, ...rest];
      args[3] = from;
      args[4] = Math.min(t1, from + each);
      return args;
    });
  }

  /** col2im of images b0..b1 (dcol from image b0's first row, K floats a row), the images divided among the threads. */
  col2im(gemm: Gemms, dcol: number, dx: number, b0: number, b1: number, geometry: ConvArgs): void {
    const [, , inC, outH, outW, fH, fW] = geometry;
    const rowBytes = fH * fW * inC * 4;
    const imageBytes = outH * outW * rowBytes;
    const images = b1 - b0;
    const each = Math.max(1, Math.ceil(images / this.#parts(images * imageBytes, images, MIN_SPLIT_BYTES)));
    this.#fork(Math.ceil(images / each), gemm, 'col2im', (part) => {
      const from = b0 + part * each;
      return [dcol + part * each * imageBytes, dx, from, Math.min(b1, from + each), ...geometry];
    });
  }

  /**
   * A depthwise forward pass (x → y) or input gradient (dy → dx) of the whole batch, the images divided
   * among the threads: images do not overlap, so each element is summed as on one thread.
   */
  depthwise(gemm: Gemms, op: DepthwiseOp, source: number, filter: number, target: number, geometry: DepthwiseArgs): void {
    const [batch, inH, inW, C, outH, outW, fH, fW] = geometry;
    const [inBytes, outBytes] = [inH * inW * C * 4, outH * outW * C * 4];
    const [sourceBytes, targetBytes] = op === 'depthwise_forward' ? [inBytes, outBytes] : [outBytes, inBytes];
    const each = Math.ceil(batch / this.#parts(batch * outH * outW * C * fH * fW, batch, MIN_SPLIT_DEPTHWISE));
    this.#fork(Math.ceil(batch / each), gemm, op, (part) => {
      const from = part * each;
      return [source + from * sourceBytes, filter, target + from * targetBytes, Math.min(each, batch - from), ...geometry.slice(1)];
    });
  }

  /** A row-wise pass (ROW_OPS) with `args`, its rows divided among the threads: each writes its own rows. */
  rows(gemm: Gemms, op: RowOp, args: readonly number[], layout: RowLayout): void {
    const rowBytes = layout.rowBytes(args);
    const rows = args[layout.count]! / layout.unit;
    const each = Math.ceil(rows / this.#parts(rows * rowBytes, rows, MIN_SPLIT_ROW_BYTES));
    this.#fork(Math.ceil(rows / each), gemm, op, (part) => {
      const from = part * each;
      const moved = [...args];
      for (const i of layout.moving) moved[i]! += from * rowBytes;
      moved[layout.count] = Math.min(each, rows - from) * layout.unit;
      return moved;
    });
  }

  /** `op` once per row of `parts` (its arguments), as many at a time as the table holds, divided among the threads. */
  parts(gemm: Gemms, op: PartOp, parts: readonly (readonly number[])[]): void {
    const capacity = (this.count + 1) * PARTS_PER_THREAD;
    for (let first = 0; first < parts.length; first += capacity) {
      const some = parts.slice(first, first + capacity);
      this.#fork(some.length, gemm, op, (part) => [...some[part]!]);
    }
  }

  /**
   * A depthwise filter gradient into one set of accumulators per group of `groupImages` images, the groups
   * divided among the threads: each group is summed as on one thread, whatever the number of threads.
   */
  depthwiseFilterGrad(gemm: Gemms, x: number, dy: number, acc: number, args: [...DepthwiseArgs, number, number]): void {
    const [batch, inH, inW, C, outH, outW, fH, fW] = args;
    const [groupImages, accStride] = args.slice(-2) as [number, number];
    const groups = Math.ceil(batch / groupImages);
    const [inBytes, outBytes] = [inH * inW * C * 4, outH * outW * C * 4];
    const each = Math.ceil(groups / this.#parts(batch * outH * outW * C * fH * fW, groups, MIN_SPLIT_DEPTHWISE));
    this.#fork(Math.ceil(groups / each), gemm, 'depthwise_filter_grad', (part) => {
      const [g0, b0] = [part * each, part * each * groupImages];
      return [x + b0 * inBytes, dy + b0 * outBytes, acc + g0 * accStride, Math.min(each * groupImages, batch - b0), ...args.slice(1)];
    });
  }
}
