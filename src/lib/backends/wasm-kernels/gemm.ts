// Register-blocked GEMMs in plain TypeScript. JS numbers are doubles, so the 16 accumulators of a 4×4
// block sum in float64 (closer to the cpu backend, which also sums in doubles, than float32 would be).
// V8 does not vectorize; blocking buys reuse: 8 loads per 16 multiply-adds instead of 2–3 per 1.

/** Rows of A and B streamed per pass: A and B chunks (rows × (K + N) floats) stay in L2 while reused. */
function chunkRows(k: number, n: number): number {
  return Math.max(16, Math.min(1024, Math.floor(65536 / (k + n))));
}

/**
 * `C[K×N] += Aᵀ·B` where A is rows × K (leading dimension `lda`, from `aOffset`) and B is rows × N
 * (leading dimension `ldb`, from `bOffset`); C is K × N, row-major, float64.
 */
export function gemmAtB(
  A: Float32Array,
  aOffset: number,
  lda: number,
  B: Float32Array,
  bOffset: number,
  ldb: number,
  rows: number,
  K: number,
  N: number,
  C: Float64Array,
): void {
  const step = chunkRows(K, N);
  const K4 = K - (K % 4);
  const N4 = N - (N % 4);
  for (let m0 = 0; m0 < rows; m0 += step) {
    const m1 = Math.min(rows, m0 + step);
    for (let k = 0; k < K4; k += 4) {
      for (let n = 0; n < N4; n += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let ia = aOffset + m0 * lda + k;
        let ib = bOffset + m0 * ldb + n;
        for (let m = m0; m < m1; m++, ia += lda, ib += ldb) {
          const b0 = B[ib]!, b1 = B[ib + 1]!, b2 = B[ib + 2]!, b3 = B[ib + 3]!;
          const a0 = A[ia]!, a1 = A[ia + 1]!, a2 = A[ia + 2]!, a3 = A[ia + 3]!;
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        let o = k * N + n;
        C[o]! += c00; C[o + 1]! += c01; C[o + 2]! += c02; C[o + 3]! += c03; o += N;
        C[o]! += c10; C[o + 1]! += c11; C[o + 2]! += c12; C[o + 3]! += c13; o += N;
        C[o]! += c20; C[o + 1]! += c21; C[o + 2]! += c22; C[o + 3]! += c23; o += N;
        C[o]! += c30; C[o + 1]! += c31; C[o + 2]! += c32; C[o + 3]! += c33;
      }
      // Right edge: columns N4..N of rows k..k+3.
      for (let n = N4; n < N; n++) {
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        let ia = aOffset + m0 * lda + k;
        let ib = bOffset + m0 * ldb + n;
        for (let m = m0; m < m1; m++, ia += lda, ib += ldb) {
          const bv = B[ib]!;
          c0 += A[ia]! * bv; c1 += A[ia + 1]! * bv; c2 += A[ia + 2]! * bv; c3 += A[ia + 3]! * bv;
        }
        C[k * N + n]! += c0;
        C[(k + 1) * N + n]! += c1;
        C[(k + 2) * N + n]! += c2;
        C[(k + 3) * N + n]! += c3;
      }
    }
    // Bottom edge: rows K4..K, every column.
    for (let k = K4; k < K; k++) {
      const o = k * N;
      for (let m = m0; m < m1; m++) {
        const a = A[aOffset + m * lda + k]!;
        if (a === 0) continue;
        const ib = bOffset + m * ldb;
        for (let n = 0; n < N; n++) C[o + n]! += a * B[ib + n]!;
      }
    }
  }
}

/**
 * `C[M×N] = A·Bᵀ` where A is M × D (leading dimension `lda`, from `aOffset`) and B is N × D (row-major):
 * dot products of contiguous rows. C is row-major with leading dimension N, from `cOffset`.
 */
export function gemmABt(
  A: Float32Array,
  aOffset: number,
  lda: number,
  B: Float32Array,
  M: number,
  N: number,
  D: number,
  C: Float32Array,
  cOffset: number,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0r = aOffset + i * lda, a1r = a0r + lda, a2r = a1r + lda, a3r = a2r + lda;
    for (let j = 0; j < N4; j += 4) {
      const b0r = j * D, b1r = b0r + D, b2r = b1r + D, b3r = b2r + D;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let d = 0; d < D; d++) {
        const b0 = B[b0r + d]!, b1 = B[b1r + d]!, b2 = B[b2r + d]!, b3 = B[b3r + d]!;
        const a0 = A[a0r + d]!, a1 = A[a1r + d]!, a2 = A[a2r + d]!, a3 = A[a3r + d]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let o = cOffset + i * N + j;
      C[o] = c00; C[o + 1] = c01; C[o + 2] = c02; C[o + 3] = c03; o += N;
      C[o] = c10; C[o + 1] = c11; C[o + 2] = c12; C[o + 3] = c13; o += N;
      C[o] = c20; C[o + 1] = c21; C[o + 2] = c22; C[o + 3] = c23; o += N;
      C[o] = c30; C[o + 1] = c31; C[o + 2] = c32; C[o + 3] = c33;
    }
    for (let j = N4; j < N; j++) {
      const br = j * D;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let d = 0; d < D; d++) {
        const bv = B[br + d]!;
        c0 += A[a0r + d]! * bv; c1 += A[a1r + d]! * bv; c2 += A[a2r + d]! * bv; c3 += A[a3r + d]! * bv;
      }
      const o = cOffset + i * N + j;
      C[o] = c0;
      C[o + N] = c1;
      C[o + 2 * N] = c2;
      C[o + 3 * N] = c3;
    }
  }
  for (let i = M4; i < M; i++) {
    const ar = aOffset + i * lda;
    for (let j = 0; j < N; j++) {
      const br = j * D;
      let c = 0;
      for (let d = 0; d < D; d++) c += A[ar + d]! * B[br + d]!;
      C[cOffset + i * N + j] = c;
    }
  }
}
