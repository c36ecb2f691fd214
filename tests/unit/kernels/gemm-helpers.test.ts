import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGemmHelperInNode } from '../../../src/cli/gemm-helpers';
import { convArgs, GemmHelpers, HELPER_PROGRAM, type Gemms, type RowOp } from '../../../src/lib/backends/wasm-kernels/gemm-helpers';
import { ROW_LAYOUTS } from '../../../src/lib/backends/wasm-kernels/simd/module';
import { geometryOf, type ConvGeometry } from '../../../src/lib/backends/wasm-kernels/geometry';
import { col2im, im2col, transpose } from '../../../src/lib/backends/wasm-kernels/im2col';
import { SIMD_MODULES } from '../../../src/lib/backends/wasm-kernels/simd/modules.generated';
import { randomValues } from './wasm';

// Loupe's GEMM module (simd/gemm.wat) and the other modules helpers run (depthwise, activations,
// BatchNorm) on a shared memory, as in tfjs's threaded build, with and without helper threads: every split
// must give the very bits of one thread, and the GEMM module's im2col / col2im those of the TypeScript
// reference.

const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const memory = new WebAssembly.Memory({ initial: 1024, maximum: 1024, shared: true });
const module = new WebAssembly.Module(decode(SIMD_MODULES['gemm']!.shared));
const modules = ['gemm', 'depthwise', 'activations', 'batch-norm'].map((name) => new WebAssembly.Module(decode(SIMD_MODULES[name]!.shared)));
const gemm = Object.assign({}, ...modules.map((m) => new WebAssembly.Instance(m, { env: { memory } }).exports)) as Gemms;
const heap = new Float32Array(memory.buffer);
let helpers: GemmHelpers;

/** Bump allocation of float regions in the shared heap (reset per test). */
let next = 0;
function region(floats: number, values?: Float32Array): number {
  const at = next;
  next += Math.ceil(floats / 16) * 16;
  if (next > heap.length) throw new Error('test heap too small');
  if (values) heap.set(values, at);
  else heap.fill(Number.NaN, at, at + floats); // Every output float must be written.
  return at * 4;
}
const floatsAt = (pointer: number, n: number) => heap.slice(pointer / 4, pointer / 4 + n);

/** The first index where `actual` and `expected` differ in their bits (NaN included), or -1 (faster than toEqual on 10⁵ floats). */
function firstDifference(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A layer's geometry as the studio's kernels derive it (tfjs's Conv2DInfo), 4 output channels. */
function geometry(x: [number, number, number, number], filter: [number, number], strides: [number, number], dilations: [number, number], pad: 'same' | 'valid' | [number, number]): ConvGeometry {
  const padding = Array.isArray(pad) ? ([[0, 0], [pad[0], pad[0]], [pad[1], pad[1]], [0, 0]] as tf.backend_util.ExplicitPadding) : pad;
  return geometryOf(tf.backend_util.computeConv2DInfo(x, [...filter, x[3], 4], strides, dilations, padding));
}

const layouts: [string, ConvGeometry][] = [
  ['3×3 same, 16 channels (whole tap rows copied)', geometry([3, 40, 40, 16], [3, 3], [1, 1], [1, 1], 'same')],
  ['7×7 stride 2, 3 channels (the stem; K padded to 148)', geometry([2, 64, 64, 3], [7, 7], [2, 2], [1, 1], [3, 3])],
  ['3×3 stride 2 dilation 2, 5 channels, unequal pads', geometry([2, 33, 29, 5], [3, 3], [2, 2], [2, 2], [2, 1])],
  ['1×3 valid, stride 1×2', geometry([2, 9, 31, 12], [1, 3], [1, 2], [1, 1], 'valid')],
  ["3×3 stride 2, 3 channels (MobileNetV3's stem: 36-byte tap rows copied by vectors and words)", geometry([3, 33, 33, 3], [3, 3], [2, 2], [1, 1], 'same')],
];

describe('GEMM helper threads on a shared wasm memory', () => {
  beforeAll(async () => {
    const started = await GemmHelpers.start(memory, modules, 2, spawnGemmHelperInNode);
    if (!started) throw new Error('the helpers did not start');
    helpers = started;
  });
  afterAll(() => helpers.stop());

  it.each([
    ['rows a multiple of 32', 1024, 96, 64],
    ['rows not a multiple of 32, K over 256', 1001, 300, 36],
    ['a few rows over many columns', 40, 4608, 512],
  ])('gemm_ab split by rows gives the bits of one thread: %s', (_, M, K, N) => {
    next = 0;
    const A = region(M * K, randomValues(M * K, M));
    const B = region(K * N, randomValues(K * N, K));
    const alone = region(M * N);
    const split = region(M * N);
    gemm.gemm_ab(A, K, B, N, alone, N, M, K, N);
    const before = helpers.partsHandedOut;
    helpers.gemmAb(gemm, A, K, B, N, split, N, M, K, N);
    expect(helpers.partsHandedOut - before).toBeGreaterThan(0);
    expect(firstDifference(floatsAt(split, M * N), floatsAt(alone, M * N))).toBe(-1);
  });

  it.each([
    ['K split evenly', 2048, 64, 64],
    ['K not divisible into equal parts of 4', 700, 148, 64],
    ['N wider than K: split by N', 256, 256, 512],
    ['N wider and not a multiple of 8 (a 1×1 convolution from 16 channels to 76)', 6000, 16, 76],
  ])('gemm_atb split by K or by N gives the bits of one thread: %s', (_, rows, K, N) => {
    next = 0;
    const A = region(rows * K, randomValues(rows * K, rows));
    const B = region(rows * N, randomValues(rows * N, N));
    const start = randomValues(K * N, 5);
    const alone = region(K * N, start);
    const split = region(K * N, start);
    gemm.gemm_atb(A, K, B, N, rows, K, N, alone);
    const before = helpers.partsHandedOut;
    helpers.gemmAtb(gemm, A, K, B, N, rows, K, N, split);
    expect(helpers.partsHandedOut - before).toBeGreaterThan(0);
    expect(firstDifference(floatsAt(split, K * N), floatsAt(alone, K * N))).toBe(-1);
  });

  it('keeps small GEMMs on the calling thread', () => {
    next = 0;
    const A = region(64 * 16, randomValues(64 * 16, 1));
    const B = region(16 * 8, randomValues(16 * 8, 2));
    const C = region(64 * 8);
    const before = helpers.partsHandedOut;
    helpers.gemmAb(gemm, A, 16, B, 8, C, 8, 64, 16, 8);
    expect(helpers.partsHandedOut).toBe(before);
    expect(floatsAt(C, 64 * 8).every(Number.isFinite)).toBe(true);
  });

  it.each(layouts)('im2col in wasm equals the TypeScript im2col, alone and split: %s', (_, g) => {
    next = 0;
    const K = g.filterH * g.filterW * g.inC;
    const ld = Math.ceil(K / 4) * 4;
    const x = randomValues(g.batch * g.inH * g.inW * g.inC, 3);
    const rows = g.batch * g.outH * g.outW;
    const expected = new Float32Array(rows * ld);
    im2col(x, g, 0, g.batch, expected, ld);
    const xp = region(x.length, x);
    const alone = region(rows * ld);
    const split = region(rows * ld);
    gemm.im2col(xp, alone, ld, 0, rows, ...convArgs(g));
    helpers.im2col(gemm, xp, split, ld, 0, rows, convArgs(g));
    expect(firstDifference(floatsAt(alone, rows * ld), expected)).toBe(-1);
    expect(firstDifference(floatsAt(split, rows * ld), expected)).toBe(-1);
    // Images b0..b1 alone, as a chunked convolution asks for them.
    const perImage = g.outH * g.outW;
    const second = region(perImage * ld);
    gemm.im2col(xp, second, ld, perImage, 2 * perImage, ...convArgs(g));
    expect(firstDifference(floatsAt(second, perImage * ld), expected.slice(perImage * ld, 2 * perImage * ld))).toBe(-1);
  });

  it.each(layouts)('col2im in wasm adds as the TypeScript col2im does, alone and split by images: %s', (_, g) => {
    next = 0;
    const K = g.filterH * g.filterW * g.inC;
    const rows = g.batch * g.outH * g.outW;
    const dcol = randomValues(rows * K, 4);
    const start = randomValues(g.batch * g.inH * g.inW * g.inC, 6);
    const expected = start.slice();
    col2im(dcol, g, 0, g.batch, expected);
    const dcolp = region(dcol.length, dcol);
    const alone = region(start.length, start);
    const split = region(start.length, start);
    gemm.col2im(dcolp, alone, 0, g.batch, ...convArgs(g));
    helpers.col2im(gemm, dcolp, split, 0, g.batch, convArgs(g));
    expect(firstDifference(floatsAt(alone, start.length), expected)).toBe(-1);
    expect(firstDifference(floatsAt(split, start.length), expected)).toBe(-1);
  });

  it('hands im2col and col2im of large layers to the helpers', () => {
    next = 0;
    const [, g] = layouts[0]!;
    const K = g.filterH * g.filterW * g.inC;
    const rows = g.batch * g.outH * g.outW;
    const xp = region(g.batch * g.inH * g.inW * g.inC, randomValues(g.batch * g.inH * g.inW * g.inC, 8));
    const col = region(rows * K);
    const before = helpers.partsHandedOut;
    helpers.im2col(gemm, xp, col, K, 0, rows, convArgs(g));
    const afterIm2col = helpers.partsHandedOut;
    helpers.col2im(gemm, col, xp, 0, g.batch, convArgs(g));
    expect(afterIm2col - before).toBeGreaterThan(0);
    expect(helpers.partsHandedOut - afterIm2col).toBeGreaterThan(0);
  });

  it("divides Winograd's transforms by tiles with the bits of one thread (48×48 map, 32 channels)", () => {
    next = 0;
    const [B, H, W, C, K] = [4, 48, 48, 32, 32];
    const [TH, TW] = [H / 4, W / 4];
    const tiles = B * TH * TW;
    const xp = region(B * H * W * C, randomValues(B * H * W * C, 9));
    const zeros = region(C, new Float32Array(C));
    const discard = region(K);
    const transforms: [string, (split: boolean) => [number, number]][] = [
      ['wino_input', (split) => {
        const V = region(36 * tiles * C);
        const args = [tiles * C, 0, tiles, H, W, C, TH, TW, 1, 1, zeros] as const;
        if (split) helpers.winograd(gemm, 'wino_input', xp, V, [...args]);
        else gemm.wino_input(xp, V, ...args);
        return [V, 36 * tiles * C];
      }],
      ['wino_output', (split) => {
        const y = region(B * H * W * K);
        const args = [tiles * K, 0, tiles, H, W, K, TH, TW, discard] as const;
        if (split) helpers.winograd(gemm, 'wino_output', xp, y, [...args]);
        else gemm.wino_output(xp, y, ...args);
        return [y, B * H * W * K];
      }],
      ['wino_output_grad', (split) => {
        const D = region(36 * tiles * K);
        const args = [tiles * K, 0, tiles, H, W, K, TH, TW, zeros] as const;
        if (split) helpers.winograd(gemm, 'wino_output_grad', xp, D, [...args]);
        else gemm.wino_output_grad(xp, D, ...args);
        return [D, 36 * tiles * K];
      }],
    ];
    for (const [name, run] of transforms) {
      const before = helpers.partsHandedOut;
      const [split, n] = run(true);
      const handedOut = helpers.partsHandedOut - before;
      const [alone] = run(false);
      expect({ name, handedOut: handedOut > 0 }).toEqual({ name, handedOut: true });
      expect({ name, difference: firstDifference(floatsAt(split, n), floatsAt(alone, n)) }).toEqual({ name, difference: -1 });
    }
  });

  it.each([
    ['5×5 same, 240 channels (MobileNetV3-Small at 8²)', geometry([16, 8, 8, 240], [5, 5], [1, 1], [1, 1], 'same')],
    ['3×3 stride 2, 72 channels, an odd batch', geometry([9, 33, 31, 72], [3, 3], [2, 2], [1, 1], 'same')],
    ['3×3 dilation 2, 20 channels (fours after the sixteens)', geometry([7, 40, 40, 20], [3, 3], [1, 1], [2, 2], 'same')],
  ])('depthwise passes divided by images (or groups of them) give the bits of one thread: %s', (_, g) => {
    next = 0;
    const [inSize, outSize] = [g.batch * g.inH * g.inW * g.inC, g.batch * g.outH * g.outW * g.inC];
    const filter = region(g.filterH * g.filterW * g.inC, randomValues(g.filterH * g.filterW * g.inC, 11));
    const x = region(inSize, randomValues(inSize, 12));
    const dy = region(outSize, randomValues(outSize, 13));
    const args = [g.batch, ...convArgs(g)] as const;
    for (const [op, source, size] of [['depthwise_forward', x, outSize], ['depthwise_input_grad', dy, inSize]] as const) {
      const [alone, split] = [region(size), region(size)];
      gemm[op](source, filter, alone, ...args);
      const before = helpers.partsHandedOut;
      helpers.depthwise(gemm, op, source, filter, split, [...args]);
      expect({ op, handedOut: helpers.partsHandedOut - before > 0 }).toEqual({ op, handedOut: true });
      expect({ op, difference: firstDifference(floatsAt(split, size), floatsAt(alone, size)) }).toEqual({ op, difference: -1 });
    }
    // The filter gradient: double accumulators per group of images (fixed by the batch), groups divided.
    const taps = g.filterH * g.filterW * g.inC;
    const groupImages = Math.ceil(g.batch / 4);
    const groups = Math.ceil(g.batch / groupImages);
    const [alone, split] = [region(4 * taps * groups, new Float32Array(4 * taps * groups)), region(4 * taps * groups, new Float32Array(4 * taps * groups))];
    gemm.depthwise_filter_grad(x, dy, alone, ...args, groupImages, taps * 8);
    const before = helpers.partsHandedOut;
    helpers.depthwiseFilterGrad(gemm, x, dy, split, [...args, groupImages, taps * 8]);
    expect(helpers.partsHandedOut - before).toBeGreaterThan(0);
    expect(firstDifference(floatsAt(split, 2 * taps * groups), floatsAt(alone, 2 * taps * groups))).toBe(-1);
  });

  it('divides the activations (alone or after a BatchNorm) by rows with the bits of one thread', () => {
    next = 0;
    const n = 16 * 32 * 32 * 72;
    const x = region(n, randomValues(n, 14).map((v) => v * 8)); // across hard-swish's kinks at ±3
    const dy = region(n, randomValues(n, 15));
    const cases: [RowOp, (out: number) => number[]][] = [
      ['hard_swish', (out) => [x, out, n]],
      ['hard_sigmoid', (out) => [x, out, n]],
      ['hard_swish_grad', (out) => [x, dy, out, n]],
      ['hard_sigmoid_grad', (out) => [x, dy, out, n]],
      ['relu_grad', (out) => [x, dy, out, n]],
    ];
    // …and after a BatchNorm: rows of 72 channels, normalized by per-channel vectors.
    const C = 72;
    const [mean, scale, shift] = [16, 17, 18].map((seed) => region(C, randomValues(C, seed)));
    for (const act of [1, 2]) cases.push(['bn_forward', (out) => [x, mean!, scale!, shift!, out, n / C, C, act]]);
    const [alone, split] = [region(n), region(n)];
    for (const [op, args] of cases) {
      heap.fill(Number.NaN, alone / 4, alone / 4 + n);
      heap.fill(Number.NaN, split / 4, split / 4 + n);
      (gemm[op] as (...a: number[]) => void)(...args(alone));
      const before = helpers.partsHandedOut;
      helpers.rows(gemm, op, args(split), ROW_LAYOUTS[op]);
      expect({ op, handedOut: helpers.partsHandedOut - before > 0 }).toEqual({ op, handedOut: true });
      expect({ op, difference: firstDifference(floatsAt(split, n), floatsAt(alone, n)) }).toEqual({ op, difference: -1 });
    }
  });

  it("divides BatchNorm's gradient sums by the caller's parts with the bits of one thread: dy alone, or after ReLU or hard-swish", () => {
    next = 0;
    const [C, pixels, parts] = [72, 16 * 16 * 16, 5];
    const x = region(pixels * C, randomValues(pixels * C, 20).map((v) => v * 4));
    const dz = region(pixels * C, randomValues(pixels * C, 21));
    const [mean, scale, shift] = [22, 23, 24].map((seed) => region(C, randomValues(C, seed)));
    const each = Math.ceil(pixels / parts / 32) * 32;
    for (const act of [0, 1, 2]) {
      const outputs = [region(pixels * C), region(pixels * C)];
      const sums = outputs.map(() => region(2 * parts * C * 2, new Float32Array(2 * parts * C * 2)));
      const table = (run: number) =>
        Array.from({ length: parts }, (_, part) => {
          const offset = part * each * C * 4;
          const partSums = sums[run]! + part * 2 * C * 8;
          return [x + offset, dz + offset, mean!, scale!, shift!, act ? outputs[run]! + offset : 0, partSums, partSums + C * 8, Math.min(each, pixels - part * each), C, act];
        });
      for (const args of table(0)) gemm.bn_backward_sums(...(args as Parameters<typeof gemm.bn_backward_sums>));
      const before = helpers.partsHandedOut;
      helpers.parts(gemm, 'bn_backward_sums', table(1));
      expect({ act, handedOut: helpers.partsHandedOut - before }).toEqual({ act, handedOut: parts - 1 });
      expect({ act, sums: firstDifference(floatsAt(sums[1]!, 4 * parts * C), floatsAt(sums[0]!, 4 * parts * C)) }).toEqual({ act, sums: -1 });
      if (act) expect({ act, dy: firstDifference(floatsAt(outputs[1]!, pixels * C), floatsAt(outputs[0]!, pixels * C)) }).toEqual({ act, dy: -1 });
    }
  });

  it('transposes as the TypeScript transpose does (a 3×3×12 → 8 filter, as the input gradient needs it)', () => {
    next = 0;
    const [rows, cols] = [108, 8];
    const values = randomValues(rows * cols, 10);
    const src = region(rows * cols, values);
    const dst = region(rows * cols);
    const expected = new Float32Array(rows * cols);
    transpose(values, 0, rows, cols, expected);
    (gemm as unknown as { transpose(src: number, dst: number, rows: number, cols: number): void }).transpose(src, dst, rows, cols);
    expect(firstDifference(floatsAt(dst, rows * cols), expected)).toBe(-1);
  });

  it('finishes a job on the calling thread when a helper died before it: the caller claims the parts it would have taken', async () => {
    const threads: { terminate(): void }[] = [];
    const orphaned = await GemmHelpers.start(memory, [module], 1, (start) => {
      const thread = spawnGemmHelperInNode(start);
      threads.push(thread);
      return thread;
    }, { partTimeoutMs: 200 });
    expect(orphaned).not.toBeNull();
    threads[0]!.terminate();
    await new Promise((resolve) => setTimeout(resolve, 50)); // Let the worker end.
    next = 0;
    const [M, K, N] = [1024, 96, 64];
    const A = region(M * K, randomValues(M * K, 9));
    const B = region(K * N, randomValues(K * N, 10));
    const [alone, split] = [region(M * N), region(M * N)];
    gemm.gemm_ab(A, K, B, N, alone, N, M, K, N);
    orphaned!.gemmAb(gemm, A, K, B, N, split, N, M, K, N);
    expect(orphaned!.partsHandedOut).toBeGreaterThan(0);
    expect(orphaned!.partsHelpersRan).toBe(0);
    expect(firstDifference(floatsAt(split, M * N), floatsAt(alone, M * N))).toBe(-1);
    orphaned!.stop();
  });

  it('fails a call with a reason when a helper dies holding a part, instead of hanging', async () => {
    // This helper signals its first successful claim and then dies: it has no modules, so the claimed
    // part's operation is missing. The caller's own first part waits for that signal, so the helper
    // surely claims one whatever the machine's load.
    const claimed = new Int32Array(new SharedArrayBuffer(4));
    const program = `${HELPER_PROGRAM}
      const { workerData } = require('node:worker_threads');
      const claimed = new Int32Array(workerData.claimed);
      const compareExchange = Atomics.compareExchange;
      Atomics.compareExchange = (...args) => {
        const old = compareExchange(...args);
        if (old === args[2]) { Atomics.store(claimed, 0, 1); Atomics.notify(claimed, 0); }
        return old;
      };
      serve({ ...workerData, modules: [] });`;
    const dying = await GemmHelpers.start(memory, [module], 1, (start) => {
      const worker = new Worker(program, { eval: true, workerData: { ...start, claimed: claimed.buffer } });
      worker.on('error', () => {}); // Its death is the point.
      return { terminate: () => void worker.terminate() };
    }, { partTimeoutMs: 200 });
    expect(dying).not.toBeNull();
    const afterTheHelpersClaim: Gemms = {
      ...gemm,
      gemm_ab_batched: (...args) => {
        Atomics.wait(claimed, 0, 0, 30_000);
        gemm.gemm_ab_batched(...args);
      },
    };
    next = 0;
    const [M, K, N] = [1024, 96, 64];
    const A = region(M * K, randomValues(M * K, 9));
    const B = region(K * N, randomValues(K * N, 10));
    const C = region(M * N);
    expect(() => dying!.gemmAb(afterTheHelpersClaim, A, K, B, N, C, N, M, K, N)).toThrow(/a GEMM helper thread did not finish its part within 0.2 s/);
    expect(Atomics.load(claimed, 0)).toBe(1);
    dying!.stop();
  });

  it('does not start on a memory that is not shared', async () => {
    const plain = new WebAssembly.Memory({ initial: 1 });
    await expect(GemmHelpers.start(plain, [module], 1, spawnGemmHelperInNode)).resolves.toBeNull();
  });
});
