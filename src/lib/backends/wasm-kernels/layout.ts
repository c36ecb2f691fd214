// Tile and axis reductions for the shapes BatchNorm training produces on NHWC tensors. tfjs-backend-wasm
// 4.22 computes Tile element by element with index arithmetic, and reduces over non-trailing axes by
// first transposing the whole tensor; BatchNorm's gradient tiles a [1,1,1,C] vector to the full activation
// shape and sums over [0,1,2] several times per layer, which made these the top kernels of a wasm step.

type Writable = Float32Array | Int32Array | Uint8Array;

/** `out = tile(x, reps)` (row-major): x is copied once to the origin, then each axis is doubled out with copyWithin. */
export function tile(x: Writable, shape: readonly number[], reps: readonly number[], out: Writable): void {
  const rank = shape.length;
  if (out.length === 0) return;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]! * reps[i + 1]!;

  // 1. x's rows (last axis) to their places in the origin block.
  const rowLength = shape[rank - 1]!;
  const rows = x.length / rowLength;
  const index = new Array<number>(rank).fill(0);
  for (let r = 0; r < rows; r++) {
    let offset = 0;
    for (let j = 0; j < rank - 1; j++) offset += index[j]! * strides[j]!;
    const src = r * rowLength;
    for (let c = 0; c < rowLength; c++) out[offset + c] = x[src + c]!;
    for (let j = rank - 2; j >= 0; j--) {
      if (++index[j]! < shape[j]!) break;
      index[j] = 0;
    }
  }

  // 2. From the last axis to the first: the filled slab along axis k is contiguous (inner axes are
  //    complete), so copy it after itself, doubling, until it is repeated reps[k] times.
  for (let k = rank - 1; k >= 0; k--) {
    const times = reps[k]!;
    if (times === 1) continue;
    const block = shape[k]! * strides[k]!;
    index.fill(0);
    let outer = 1;
    for (let j = 0; j < k; j++) outer *= shape[j]!;
    for (let o = 0; o < outer; o++) {
      let base = 0;
      for (let j = 0; j < k; j++) base += index[j]! * strides[j]!;
      for (let filled = 1; filled < times; ) {
        const n = Math.min(filled, times - filled);
        out.copyWithin(base + filled * block, base, base + n * block);
        filled += n;
      }
      for (let j = k - 1; j >= 0; j--) {
        if (++index[j]! < shape[j]!) break;
        index[j] = 0;
      }
    }
  }
}

/**
 * Sums x viewed as [outer, middle, inner] over `middle` (e.g. [0,1,2] of NHWC: outer 1, inner C; or a
 * global average pool's [1,2]: outer B, inner C), in float64, then scales by `scale` (1/count for a mean).
 * Eight channels at a time are summed down the column in registers.
 */
export function reduceMiddle(x: Float32Array, outer: number, middle: number, inner: number, scale: number, out: Float32Array): void {
  const inner8 = inner - (inner % 8);
  for (let o = 0; o < outer; o++) {
    const base = o * middle * inner;
    const dst = o * inner;
    for (let i = 0; i < inner8; i += 8) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
      for (let m = 0, j = base + i; m < middle; m++, j += inner) {
        a0 += x[j]!; a1 += x[j + 1]!; a2 += x[j + 2]!; a3 += x[j + 3]!;
        a4 += x[j + 4]!; a5 += x[j + 5]!; a6 += x[j + 6]!; a7 += x[j + 7]!;
      }
      out[dst + i] = a0 * scale; out[dst + i + 1] = a1 * scale; out[dst + i + 2] = a2 * scale; out[dst + i + 3] = a3 * scale;
      out[dst + i + 4] = a4 * scale; out[dst + i + 5] = a5 * scale; out[dst + i + 6] = a6 * scale; out[dst + i + 7] = a7 * scale;
    }
    for (let i = inner8; i < inner; i++) {
      let a = 0;
      for (let m = 0, j = base + i; m < middle; m++, j += inner) a += x[j]!;
      out[dst + i] = a * scale;
    }
  }
}
